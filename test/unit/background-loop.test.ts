import { startBackgroundLoop } from '../../common/background-loop';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('startBackgroundLoop', () => {
  it('runs the job again after each run settles, never two at once, and goes on after a failure', async () => {
    let running = 0;
    let overlapped = false;
    let runs = 0;
    const errors: unknown[] = [];
    const loop = startBackgroundLoop({
      everyMs: 5,
      tick: async () => {
        running += 1;
        if (running > 1) overlapped = true;
        runs += 1;
        await sleep(15);
        running -= 1;
        if (runs === 1) throw new Error('first run fails');
      },
      onError: (err) => errors.push(err),
    });
    await sleep(120);
    await loop.stop();
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(overlapped).toBe(false);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('first run fails');
  });

  it('stop waits for the run in flight and starts no other', async () => {
    let finished = 0;
    let started = 0;
    const loop = startBackgroundLoop({
      everyMs: 1,
      tick: async () => {
        started += 1;
        await sleep(30);
        finished += 1;
      },
      onError: () => undefined,
    });
    await sleep(10); // the first run is in flight
    expect(loop.isStopped()).toBe(false);
    await loop.stop();
    expect(loop.isStopped()).toBe(true);
    expect(finished).toBe(started);
    const after = started;
    await sleep(40);
    expect(started).toBe(after);
  });
});
