import type { Logger } from './logger.js';

// Graceful shutdown as one mechanism, not a hand-kept list: components register a stop
// function as they start; SIGINT/SIGTERM runs them in reverse order (stop intake, drain,
// flush, commit, close clients) under one deadline, then exits.

type Stop = () => Promise<void> | void;

export interface Lifecycle {
  /** Register a stop step; steps run in reverse registration order. */
  onStop(name: string, stop: Stop): void;
  /** Run every stop step once; later calls return the same promise. */
  shutdown(reason: string): Promise<void>;
  readonly stopping: boolean;
  /** Install SIGINT/SIGTERM handlers that shut down and exit. */
  handleSignals(): void;
}

export function createLifecycle(logger: Logger, opts: { timeoutMs: number }): Lifecycle {
  const steps: Array<{ name: string; stop: Stop }> = [];
  let running: Promise<void> | undefined;

  async function runSteps(reason: string): Promise<void> {
    logger.info({ reason }, 'shutting down');
    for (const { name, stop } of [...steps].reverse()) {
      const started = Date.now();
      try {
        await stop();
        logger.debug({ step: name, ms: Date.now() - started }, 'stopped');
      } catch (err) {
        logger.error({ err, step: name }, 'stop step failed');
      }
    }
  }

  const lifecycle: Lifecycle = {
    onStop(name, stop) {
      steps.push({ name, stop });
    },
    shutdown(reason) {
      if (!running) {
        running = Promise.race([
          runSteps(reason),
          new Promise<void>((_, reject) => {
            const t = setTimeout(
              () => reject(new Error(`shutdown exceeded ${opts.timeoutMs} ms`)),
              opts.timeoutMs,
            );
            t.unref();
          }),
        ]);
      }
      return running;
    },
    get stopping() {
      return running !== undefined;
    },
    handleSignals() {
      const onSignal = (signal: NodeJS.Signals) => {
        lifecycle.shutdown(signal).then(
          () => {
            logger.info('stopped cleanly');
            logger.flush();
            process.exit(0);
          },
          (err) => {
            logger.error({ err }, 'shutdown did not complete');
            logger.flush();
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    },
  };
  return lifecycle;
}
