import type { Progress } from '../stack/progress';

/** How long a driver waits for the read model before the run fails. */
const READY_TIMEOUT_MS = 60_000;

/** Progress on stderr, so stdout carries only the figures. */
function stderrProgress(prefix: string): Progress {
  const write = (line: string) => process.stderr.write(`${prefix} ${line}\n`);
  return {
    info: write,
    async step(label, task, everySeconds = 15) {
      const started = Date.now();
      write(`${label}…`);
      const timer = setInterval(
        () => write(`  … ${label} (${Math.round((Date.now() - started) / 1000)}s so far)`),
        everySeconds * 1000,
      );
      try {
        const result = await task();
        write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
        return result;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

export const progress = stderrProgress('[bench]');

/** Why the run is stopping (a signal, a failed side, a server that died), or null while it runs. */
let abortReason: string | null = null;

export function abortedBecause(): string | null {
  return abortReason;
}

/** Stops the run for `reason` unless it is already stopping for another. */
export function abort(reason: string): void {
  abortReason ??= reason;
}

/** A signal stops the run whatever stopped it before: a second signal then exits at once. */
export function abortOnSignal(signal: NodeJS.Signals): void {
  abortReason = `${signal} received`;
}

export function abortedBySignal(): boolean {
  return abortReason?.endsWith('received') === true;
}

export function throwIfAborted(): void {
  if (abortReason) throw new Error(`aborted (${abortReason})`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` answers something, every `pollMs`. */
export async function pollFor<T>(
  what: string,
  pollMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    throwIfAborted();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(pollMs);
  }
}
