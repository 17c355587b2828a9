import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure and fast (no I/O); `integration` runs against the real
// Kafka broker and ClickHouse engine that test/global-setup.ts brings up (or reuses).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{collectors,services,schemas,scenarios,dashboards,sdk,cli,test}/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          // 2 cores and one shared broker: run integration files one at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
