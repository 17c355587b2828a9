// Flush on process exit, opt-in: a library should not take over signals unasked.
//
// - `beforeExit` fires when the event loop empties (a script that simply ends): flush then, if
//   anything is pending. Flushing schedules work, so Node fires beforeExit again afterwards;
//   with nothing pending the second call does nothing and the process exits.
// - SIGTERM/SIGINT (opt-in separately): flush under a deadline, then, if no other handler is
//   installed, re-raise the signal so the process dies the way it would have without us.

export interface ExitHookOptions {
  signals: boolean;
  deadlineMs: number;
}

export function installExitHooks(
  flush: () => Promise<void>,
  pending: () => number,
  opts: ExitHookOptions,
): () => void {
  const onBeforeExit = () => {
    if (pending() > 0) void flush().catch(() => undefined);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const deadline = new Promise<void>((r) => setTimeout(r, opts.deadlineMs).unref());
    void Promise.race([flush().catch(() => undefined), deadline]).then(() => {
      uninstall();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  process.on('beforeExit', onBeforeExit);
  if (opts.signals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  function uninstall() {
    process.off('beforeExit', onBeforeExit);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return uninstall;
}
