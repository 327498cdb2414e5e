/**
 * A read that many callers may ask for at once, shared without ever handing a caller a read sent
 * before it asked (such a read could miss a write finished just before the call): at most one
 * read under way, and one waiting behind it that every caller arriving meanwhile shares. The
 * waiting read is sent at the end of the turn (setImmediate) and not before the one under way has
 * settled, so it starts after each of its callers asked and sees every write that had finished
 * by then, as a read of its own would. The callers of one turn share a read, and under load
 * (callers arriving faster than a read returns) the store gets one read per read's round trip
 * instead of one per caller. Nothing is kept: a caller after the waiting read was sent waits for
 * the next one. A failed read fails its callers only.
 */
export function coalescedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let waiting: Promise<T> | undefined;
  let underWay: Promise<T> | undefined;
  const settled = () => undefined;
  return () => {
    if (waiting) return waiting;
    const turnOver = new Promise<void>((resolve) => setImmediate(resolve));
    const previous = underWay;
    const next = (
      previous ? Promise.all([turnOver, previous.then(settled, settled)]) : turnOver
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
