import { coalescedRead } from '../../common/coalesced-read';

/**
 * common/coalesced-read.ts: callers share a read only if it was sent after they asked; those who
 * ask while one is under way share the single read sent after it.
 */

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A read whose calls are logged and held until released, answering their own number. */
function heldReads() {
  const log: string[] = [];
  const releases: Array<(fail?: boolean) => void> = [];
  const read = () => {
    const n = releases.length + 1;
    log.push(`sent ${n}`);
    return new Promise<number>((resolve, reject) => {
      releases.push((fail) => {
        log.push(`returned ${n}`);
        if (fail) reject(new Error(`read ${n} failed`));
        else resolve(n);
      });
    });
  };
  return { log, releases, read };
}

it('when callers ask in one turn, then one read is sent for all of them', async () => {
  // Arrange
  const reads = heldReads();
  const shared = coalescedRead(reads.read);

  // Act
  const answers = [shared(), shared(), shared()];
  await nextTurn();
  reads.releases[0]!();

  // Assert
  expect(await Promise.all(answers)).toEqual([1, 1, 1]);
  expect(reads.log).toEqual(['sent 1', 'returned 1']);
});

it('when callers ask in later turns while a read is under way, then they share one read sent after it returned', async () => {
  // Arrange
  const reads = heldReads();
  const shared = coalescedRead(reads.read);
  const first = shared();
  await nextTurn();

  // Act
  const second = shared();
  await nextTurn();
  const third = shared();
  await nextTurn();
  reads.releases[0]!();
  await first;
  await nextTurn();
  reads.releases[1]!();

  // Assert
  expect(await Promise.all([first, second, third])).toEqual([1, 2, 2]);
  expect(reads.log).toEqual(['sent 1', 'returned 1', 'sent 2', 'returned 2']);
});

it('when the read under way fails, then only its callers see the failure and the waiting read is still sent', async () => {
  // Arrange
  const reads = heldReads();
  const shared = coalescedRead(reads.read);
  const first = shared();
  await nextTurn();
  const second = shared();

  // Act
  reads.releases[0]!(true);
  await expect(first).rejects.toThrow('read 1 failed');
  await nextTurn();
  reads.releases[1]!();

  // Assert
  expect(await second).toBe(2);
});

it('when the read under way hangs past the longest wait, then the waiting read is sent beside it', async () => {
  // Arrange
  const reads = heldReads();
  const shared = coalescedRead(reads.read, { maxWaitMs: 20 });
  void shared();
  await nextTurn();

  // Act
  const second = shared();
  await new Promise((resolve) => setTimeout(resolve, 60));
  reads.releases[1]!();

  // Assert
  expect(await second).toBe(2);
  expect(reads.log).toEqual(['sent 1', 'sent 2', 'returned 2']);
});
