/** Progress lines for long steps, so a first install does not look like a hang. */
export interface Progress {
  info(message: string): void;
  /** Runs `task`, printing the elapsed time every `everySeconds` until it settles. */
  step<T>(label: string, task: () => Promise<T>, everySeconds?: number): Promise<T>;
}

export function consoleProgress(prefix = '[stack]'): Progress {
  return {
    info(message) {
      process.stdout.write(`${prefix} ${message}\n`);
    },
    async step(label, task, everySeconds = 15) {
      const started = Date.now();
      process.stdout.write(`${prefix} ${label}…\n`);
      const timer = setInterval(() => {
        const seconds = Math.round((Date.now() - started) / 1000);
        process.stdout.write(`${prefix}   … ${label} (${seconds}s so far)\n`);
      }, everySeconds * 1000);
      try {
        const result = await task();
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        process.stdout.write(`${prefix} ${label}: done in ${seconds}s\n`);
        return result;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

export const silentProgress: Progress = {
  info() {},
  step: (_label, task) => task(),
};
