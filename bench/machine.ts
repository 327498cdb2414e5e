import { readFileSync } from 'node:fs';
import os from 'node:os';
import { cpuMsOfProcStat } from './report';

/** Reads cumulative CPU time per process: the servers from /proc (Linux), this one from Node. */
export interface CpuMeter {
  /** Milliseconds of CPU (user + system) each process has used so far, by name. */
  read(): Map<string, number>;
}

export function cpuMeter(serverPids: readonly number[]): CpuMeter {
  const servers = serverPids.flatMap((pid) => {
    try {
      const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      return [{ pid, name }];
    } catch {
      return []; // no /proc (not Linux): only this process is measured
    }
  });
  return {
    read() {
      const used = new Map<string, number>();
      for (const { pid, name } of servers) {
        try {
          const ms = cpuMsOfProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
          used.set(name, (used.get(name) ?? 0) + ms);
        } catch {
          // the server has gone; the run is stopping
        }
      }
      const self = process.cpuUsage();
      used.set('node (API, workers, drivers)', (self.user + self.system) / 1000);
      return used;
    },
  };
}

/** Samples the 1-minute load average, to show how busy the machine was during the run. */
export function watchLoad(): { stop(): number[] } {
  const values = [os.loadavg()[0]!];
  const timer = setInterval(() => values.push(os.loadavg()[0]!), 2000);
  return {
    stop() {
      clearInterval(timer);
      values.push(os.loadavg()[0]!);
      return values;
    },
  };
}
