// The contract every stage's Kafka consume loop offers its main.ts: start, a graceful stop
// (stop intake, finish and make durable what is held, commit, leave the group) and health
// (connected, with a recent heartbeat).

export interface ConsumerLoop {
  start(): Promise<void>;
  stop(): Promise<void>;
  healthy(): boolean;
}

/** kafkajs' batch heartbeat, called while a batch waits on a slow sink. */
export type Heartbeat = () => Promise<void>;

/** For work outside a batch (timers, shutdown), where there is no heartbeat to send. */
export const noHeartbeat: Heartbeat = async () => {};
