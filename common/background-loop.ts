/**
 * A worker's background job: `tick` runs every `everyMs` after the previous run settled (never two
 * at once), a failure is handed to `onError` and the loop goes on. `stop()` cancels the next run
 * and waits for the one in flight; `isStopped()` lets a long job give up early. Used by the
 * roll-up fold (activities/metric-rollups.ts) and the list-day sealing (activities/list-days.ts).
 */
export function startBackgroundLoop(options: {
  everyMs: number;
  tick: () => Promise<unknown>;
  onError: (err: unknown) => void;
}): { stop(): Promise<void>; isStopped(): boolean } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = options
        .tick()
        .catch((err: unknown) => options.onError(err))
        .finally(schedule);
    }, options.everyMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    isStopped: () => stopped,
  };
}
