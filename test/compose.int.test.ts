import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { alerterConfig } from '../services/alerter/config.js';
import { loadRouting } from '../services/alerter/routes.js';
import { apiConfigShape } from '../services/api/config.js';
import { detectorSettings } from '../services/detector/io/settings.js';
import { checkGatewayConfig, gatewayConfigShape } from '../services/gateway/config.js';
import { checkIngesterConfig, ingesterConfig } from '../services/ingester/config.js';
import { type ConfigShape, parseConfig } from '../services/platform/config.js';
import { repoRoot } from '../stack/paths.js';

// The production path (official images) cannot run here (no Docker engine), but
// docker-compose 1.29 parses and resolves the file without one. `.ci/run` installs it.
// What this proves: the file is valid, and each of our services is started with a command that
// exists and an environment its own config schema accepts. What it cannot: that the image builds
// or that the containers start and talk to each other.

/** The engines alone, and with our five services on top (what `up --build` is given). */
const enginesFiles = ['docker-compose.yml'];
const allFiles = ['docker-compose.yml', 'docker-compose.services.yml'];
const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasCompose) {
  console.warn(
    'compose test SKIPPED: no docker-compose binary (apt-get install docker-compose; .ci/run does)',
  );
}

/**
 * Each service's config schema, by the export name its main.ts passes to loadConfigOrExit (checked
 * below against the source, so a service switching schemas cannot leave this table stale).
 */
const services: Record<string, { shape: ConfigShape; shapeName: string }> = {
  gateway: { shape: gatewayConfigShape, shapeName: 'gatewayConfigShape' },
  ingester: { shape: ingesterConfig, shapeName: 'ingesterConfig' },
  detector: { shape: detectorSettings, shapeName: 'detectorSettings' },
  alerter: { shape: alerterConfig, shapeName: 'alerterConfig' },
  api: { shape: apiConfigShape, shapeName: 'apiConfigShape' },
};

// What the operator must supply (`${VAR:?…}` in the compose file): test values here.
const operatorDir = mkdtempSync(join(tmpdir(), 'agenttrail-compose-'));
afterAll(() => rmSync(operatorDir, { recursive: true, force: true }));
const routesFile = join(operatorDir, 'routes.yaml');
writeFileSync(
  routesFile,
  [
    'version: 1',
    'destinations:',
    '  ops:',
    '    type: webhook',
    '    url: https://hooks.example.invalid/agenttrail',
    '    secret_env: OPS_WEBHOOK_SECRET',
    'routes:',
    '  - name: everything',
    '    destinations: [ops]',
    '',
  ].join('\n'),
);
const alerterEnvFile = join(operatorDir, 'alerter.env');
/** Keys the alerter gets from the operator's env file: the routes file's secrets, not settings. */
const alerterSecretKeys = ['OPS_WEBHOOK_SECRET'];
writeFileSync(alerterEnvFile, 'OPS_WEBHOOK_SECRET=test-signing-secret-0123456789\n');
const operatorEnv: Record<string, string> = {
  GATEWAY_FINGERPRINT_KEY: 'test-fingerprint-key-0123456789',
  AGENTTRAIL_ROUTES_FILE: routesFile,
  AGENTTRAIL_ALERTER_ENV_FILE: alerterEnvFile,
};

/** docker-compose with only PATH/HOME and `vars`: the developer's shell cannot fill in a gap. */
function compose(files: string[], vars: Record<string, string>, ...args: string[]) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...vars };
  const fileArgs = files.flatMap((f) => ['-f', join(repoRoot, f)]);
  return spawnSync('docker-compose', [...fileArgs, ...args], { cwd: repoRoot, encoding: 'utf8', env });
}

interface ResolvedService {
  image?: string;
  build?: { context?: string } | string;
  command?: string[];
  environment?: Record<string, string | number | null>;
  ports?: Array<string | { target: number; published?: number | string }>;
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }>;
}
interface ResolvedCompose {
  services: Record<string, ResolvedService>;
}

let resolved: ResolvedCompose | undefined;
/** Both files as docker-compose resolves them with the operator's variables set (once per run). */
function resolve(): ResolvedCompose {
  if (resolved) return resolved;
  const res = compose(allFiles, operatorEnv, 'config');
  expect(res.stderr).not.toMatch(/ERROR|Unsupported/i);
  expect(res.status).toBe(0);
  resolved = parse(res.stdout) as ResolvedCompose;
  return resolved;
}

/** The service's environment as its process would see it (compose writes unset as null). */
const environmentOf = (svc: ResolvedService): Record<string, string> =>
  Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]));
/** Container paths the service's volumes mount (short syntax `source:target[:mode]`). */
const volumeTargets = (svc: ResolvedService) => (svc.volumes ?? []).map((v) => v.split(':')[1]);
/** Container ports the service publishes (short syntax `[ip:]published:target[/proto]`, or long). */
const publishedTargets = (svc: ResolvedService) =>
  (svc.ports ?? []).map((p) => (typeof p === 'string' ? Number(/(\d+)(\/\w+)?$/.exec(p)?.[1]) : p.target));

describe.skipIf(!hasCompose)('docker-compose.yml (+ docker-compose.services.yml)', () => {
  it('runs the engines alone without any variable, pinned to what the local stack runs', () => {
    const res = compose(enginesFiles, {}, 'config');
    expect(res.stderr).not.toMatch(/ERROR|Unsupported/i);
    expect(res.status).toBe(0);
    const engines = parse(res.stdout) as ResolvedCompose;
    expect(Object.keys(engines.services).sort()).toEqual(['clickhouse', 'kafka']);
    expect(engines.services.kafka?.image).toBe('apache/kafka:4.1.1');
    expect(engines.services.clickhouse?.image).toMatch(/^clickhouse\/clickhouse-server:26\./);
    // Single node: internal topics must not ask for 3 replicas.
    expect(String(engines.services.kafka?.environment?.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR)).toBe('1');
  });

  it('takes every secret from the operator: without one of them the file does not resolve', () => {
    for (const name of Object.keys(operatorEnv)) {
      const { [name]: _omitted, ...rest } = operatorEnv;
      const res = compose(allFiles, rest, 'config');
      expect(res.status, `config without ${name}`).not.toBe(0);
      expect(res.stderr).toContain(name);
    }
  });

  it('builds exactly our five services from ./Dockerfile', () => {
    const resolved = resolve();
    const built = Object.entries(resolved.services)
      .filter(([, s]) => s.build !== undefined)
      .map(([n]) => n)
      .sort();
    expect(built).toEqual(Object.keys(services).sort());
    expect(existsSync(join(repoRoot, 'Dockerfile'))).toBe(true);
    for (const name of built) {
      const build = resolved.services[name]!.build;
      expect(typeof build === 'string' ? build : build?.context, name).toBe(repoRoot);
    }
  });

  for (const [name, { shape, shapeName }] of Object.entries(services)) {
    describe(name, () => {
      it('runs its own services/<name>/main.ts, which loads the schema checked here', () => {
        const svc = resolve().services[name]!;
        expect(svc.command).toEqual(['node', '--import', 'tsx', `services/${name}/main.ts`]);
        const main = join(repoRoot, svc.command![3]!);
        expect(existsSync(main)).toBe(true);
        // Directly, or through the stage bootstrap (platform/stage/run-stage.ts), which parses `shape`.
        expect(readFileSync(main, 'utf8')).toMatch(
          new RegExp(`loadConfigOrExit\\(${shapeName}[,)]|runStage\\(\\{[^]*\\bshape: ${shapeName},`),
        );
      });

      it('sets only variables its schema declares, every required one, each value valid', () => {
        const env = environmentOf(resolve().services[name]!);
        const fromOperatorFile = name === 'alerter' ? alerterSecretKeys : [];

        // (b) a key the service does not read is a typo or a setting of another service.
        const settings = Object.keys(env).filter((k) => !fromOperatorFile.includes(k));
        expect(settings.filter((k) => !(k in shape))).toEqual([]);

        // (c) a setting without a default must be given, non-empty (empty means unset).
        const required = Object.entries(shape)
          .filter(([, schema]) => !(schema as z.ZodType).safeParse(undefined).success)
          .map(([k]) => k);
        expect(required.filter((k) => !env[k])).toEqual([]);

        // (d) the values pass the service's own parse and cross-field checks.
        const config = parseConfig(shape, env) as Record<string, unknown>;
        if (name === 'gateway') {
          expect(checkGatewayConfig(config as Parameters<typeof checkGatewayConfig>[0])).toBeUndefined();
        }
        if (name === 'ingester') {
          expect(checkIngesterConfig(config as Parameters<typeof checkIngesterConfig>[0])).toEqual([]);
        }

        // In-network addresses, never the host's loopback.
        if ('KAFKA_BROKERS' in shape) expect(config.KAFKA_BROKERS).toEqual(['kafka:19092']);
        if ('CLICKHOUSE_URL' in shape) expect(config.CLICKHOUSE_URL).toBe('http://clickhouse:8123');
      });

      it('listens where a published port reaches it and keeps its files on volumes', async () => {
        const svc = resolve().services[name]!;
        const env = environmentOf(svc);
        const config = parseConfig(shape, env) as Record<string, unknown>;

        // Every listen address it has is 0.0.0.0 (127.0.0.1 in a container is unreachable from
        // a published port), and the port next to it is published.
        for (const hostKey of Object.keys(shape).filter((k) => k.endsWith('_HOST'))) {
          expect(config[hostKey], hostKey).toBe('0.0.0.0');
          const portKey = hostKey.replace(/_HOST$/, '_PORT');
          expect(publishedTargets(svc), portKey).toContain(config[portKey]);
        }

        // State and files it reads live where a volume is mounted.
        const targets = volumeTargets(svc);
        if (name === 'gateway') expect(targets).toContain(dirname(String(config.GATEWAY_KEYS_FILE)));
        if (name === 'api') expect(targets).toContain(dirname(String(config.API_KEYS_FILE)));
        if (name === 'detector') expect(targets).toContain(config.DETECTOR_STATE_DIR);
        if (name === 'alerter') {
          expect(targets).toContain(config.ALERTER_ROUTES_FILE);
          // The operator's env file reaches the alerter: the routes file's secrets resolve.
          const routing = await loadRouting(routesFile, env);
          expect(routing.destinations.get('ops')?.signing_secret).toBe('test-signing-secret-0123456789');
        }
      });

      it('waits for healthy engines it uses', () => {
        const svc = resolve().services[name]!;
        const engines = ['kafka', ...('CLICKHOUSE_URL' in shape ? ['clickhouse'] : [])];
        expect(Object.keys(svc.depends_on ?? {}).sort()).toEqual(engines.sort());
        for (const e of engines) expect(svc.depends_on?.[e]?.condition).toBe('service_healthy');
      });
    });
  }
});
