import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../stack/paths.js';

// One AgentTrail service (`node --import tsx services/<name>/main.ts`) as a child process: its
// configuration only in the environment we give it (never the caller's, so a stray
// KAFKA_TOPIC_EVENTS in the shell cannot point the demo at production topics), its output in
// a log file (shown when something fails), readiness by HTTP probe, graceful stop by SIGTERM.

export type ServiceName = 'gateway' | 'ingester' | 'detector' | 'alerter';

export interface ServiceProcess {
  name: ServiceName;
  child: ChildProcess;
  logFile: string;
  /** Exit code (or 128 + signal) once exited; undefined while running. */
  exitCode(): number | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
  /** Last `lines` lines of the log file. */
  tail(lines?: number): string;
}

const SIGNAL_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGTERM: 15, SIGKILL: 9, SIGINT: 2 };

export function spawnService(name: ServiceName, env: Record<string, string>, logDir: string): ServiceProcess {
  const logFile = join(logDir, `${name}.log`);
  // The child writes straight to the file: no pipe through this process, so a busy parent
  // (the benchmark's load loop) cannot back-pressure a service's logging.
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/main.ts`], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      INSTANCE_ID: name,
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let code: number | undefined;
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (c, signal) => {
      code = c ?? 128 + (signal ? (SIGNAL_CODES[signal] ?? 0) : 0);
      resolve(code);
    }),
  );
  return {
    name,
    child,
    logFile,
    exitCode: () => code,
    async stop(graceMs = 20_000) {
      if (code !== undefined) return code;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    tail(lines = 20) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
}

/** Poll `url` until it answers 200; fails early if the service exits. */
export async function waitHealthy(svc: ServiceProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const code = svc.exitCode();
    if (code !== undefined) throw new ServiceFailed(svc, `exited with code ${code} before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new ServiceFailed(svc, `not ready within ${timeoutMs} ms (${url})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A service that did not come up: carries its log tail for the failure message. */
export class ServiceFailed extends Error {
  constructor(
    readonly service: ServiceProcess,
    reason: string,
  ) {
    super(`${service.name} ${reason}; last log lines (${service.logFile}):\n${service.tail()}`);
  }
}
