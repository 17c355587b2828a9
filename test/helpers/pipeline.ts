import { type Receiver, startReceiver } from '../../cli/pipeline/receiver.js';
import { type Pipeline, type PipelineOptions, startPipeline } from '../../cli/pipeline/start.js';
import { dropDatabase, testEndpoints, testLogDir, uniqueName } from './stack.js';

// The whole pipeline as child processes (as `agenttrail demo` runs it) on a run of its own:
// topics, consumer groups and a database named after the run, a signature-checking receiver.

export interface E2E {
  run: string;
  pipeline: Pipeline;
  rx: Receiver;
  /** Stop every stage (exit codes by service), delete the run's topics and database. */
  stop(): Promise<Record<string, number>>;
}

export async function startE2E(
  name: string,
  opts: {
    tenant: string;
    secret: string;
    /** Run name prefix (default `it_<name>`). */
    prefix?: string;
  } & Pick<PipelineOptions, 'partitions' | 'env'>,
): Promise<E2E> {
  const run = uniqueName(opts.prefix ?? `it_${name}`);
  const { brokers, clickhouseUrl } = testEndpoints();
  const rx = await startReceiver({ secret: opts.secret });
  const pipeline = await startPipeline({
    brokers,
    clickhouseUrl,
    database: run,
    run,
    workDir: testLogDir(name, run),
    tenant: opts.tenant,
    webhook: { url: `${rx.url}/hook`, secret: opts.secret },
    ...(opts.partitions ? { partitions: opts.partitions } : {}),
    ...(opts.env ? { env: opts.env } : {}),
  });
  return {
    run,
    pipeline,
    rx,
    async stop() {
      try {
        return await pipeline.stop();
      } finally {
        await pipeline.deleteTopics().catch(() => undefined);
        await rx.close();
        await dropDatabase(run);
      }
    },
  };
}
