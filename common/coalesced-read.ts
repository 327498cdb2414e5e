/**
 * A read that many callers may ask for at once, shared without ever handing a caller a read sent
 * before it asked (such a read could miss a write finished just before the call): at most one
 * read under way, and one waiting behind it that every caller arriving meanwhile shares. The
 * waiting read is sent at the end of the turn (setImmediate) and not before the one under way has
 * settled, so it starts after each of its callers asked and sees every write that had finished
 * by then, as a read of its own would. The callers of one turn share a read, and under load
 * (callers arriving faster than a read returns) the store gets one read per read's round trip
 * instead of one per caller. Nothing is kept: a caller after the waiting read was sent waits for
 * the next one. A failed read fails its callers only. A read under way for longer than
 * `maxWaitMs` is not waited for any more (the waiting read is sent beside it), so one read that
 * hangs delays the callers after it by that much, and does not hold them all.
 */
export function coalescedRead<T>(
  read: () => Promise<T>,
  options: { maxWaitMs?: number } = {},
): () => Promise<T> {
  const maxWaitMs = options.maxWaitMs ?? MAX_WAIT_MS;
  let waiting: Promise<T> | undefined;
  let underWay: Promise<T> | undefined;
  return () => {
    if (waiting) return waiting;
    const turnOver = new Promise<void>((resolve) => setImmediate(resolve));
    const previous = underWay;
    const next = (
      previous ? Promise.all([turnOver, settledOrLate(previous, maxWaitMs)]) : turnOver
    ).then(() => {
      waiting = undefined;
      const sent = read();
      underWay = sent;
      const done = () => {
        if (underWay === sent) underWay = undefined;
      };
      sent.then(done, done);
      return sent;
    });
    waiting = next;
    return next;
  };
}

/** How long the waiting read waits for the one under way at most (chosen: reads take a few ms). */
const MAX_WAIT_MS = 1_000;

/** Settles when `previous` settles, or after `ms`, whichever comes first. */
function settledOrLate(previous: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    previous.then(done, done);
  });
}
