import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { cpuMsOfProcStat, DRIVERS_PROCESS, familyOfProcStat } from './report';

/**
 * Reads cumulative CPU time per process: the servers from /proc (Linux), this one from Node. A
 * server's figure includes the processes it forked (PostgreSQL serves each connection from its
 * own process): those running now, and those that exited (counted into the server by the kernel).
 */
export interface CpuMeter {
  /** Milliseconds of CPU (user + system) each process has used so far, by name. */
  read(): Map<string, number>;
}

/**
 * `serverPids` are named by their command (`temporal`, `postgres`, `ferretdb`); `hosts` are the
 * bench's own child processes (bench/host.ts), by the name given. This process is the drivers'.
 */
export function cpuMeter(
  serverPids: readonly number[],
  hosts: ReadonlyArray<{ pid: number; name: string }> = [],
): CpuMeter {
  const servers = [
    ...serverPids.flatMap((pid) => {
      try {
        const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
        return [{ pid, name }];
      } catch {
        return []; // no /proc (not Linux): only this process is measured
      }
    }),
    ...hosts,
  ];
  return {
    read() {
      const used = new Map<string, number>();
      const descendants = servers.length > 0 ? descendantsCpu(servers.map((s) => s.pid)) : null;
      for (const { pid, name } of servers) {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          const ms =
            cpuMsOfProcStat(stat) +
            familyOfProcStat(stat).reapedChildrenMs +
            (descendants?.get(pid) ?? 0);
          used.set(name, (used.get(name) ?? 0) + ms);
        } catch {
          // the server has gone; the run is stopping
        }
      }
      const self = process.cpuUsage();
      used.set(DRIVERS_PROCESS, (self.user + self.system) / 1000);
      return used;
    },
  };
}

/** CPU ms of the running descendants of each root pid (one pass over /proc), by root. */
function descendantsCpu(roots: readonly number[]): Map<number, number> {
  const processes: Array<{ pid: number; ppid: number; ms: number }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      processes.push({
        pid: Number(entry),
        ppid: familyOfProcStat(stat).ppid,
        ms: cpuMsOfProcStat(stat),
      });
    } catch {
      // exited while the folder was read
    }
  }
  const parentOf = new Map(processes.map((p) => [p.pid, p.ppid]));
  const rootSet = new Set(roots);
  const totals = new Map<number, number>();
  for (const p of processes) {
    if (rootSet.has(p.pid)) continue;
    // Walk up to a root, if any (bounded: pids form a tree).
    let ancestor = p.ppid;
    for (let hops = 0; hops < 64 && ancestor > 1 && !rootSet.has(ancestor); hops++) {
      ancestor = parentOf.get(ancestor) ?? 0;
    }
    if (rootSet.has(ancestor)) totals.set(ancestor, (totals.get(ancestor) ?? 0) + p.ms);
  }
  return totals;
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
