import type { SideResult } from '../../bench/report';
import {
  cpuMsOfProcStat,
  familyOfProcStat,
  cpuTable,
  DRIVERS_PROCESS,
  profileHistories,
  profileTable,
  Samples,
  storeCommandLines,
} from '../../bench/report';

/** The benchmark's own figures: what it reads from /proc and how it turns it into per-case rows. */

function side(name: string, cases: number, cpuMs: Record<string, number>): SideResult {
  return {
    name,
    cases,
    wallMs: 1000,
    samples: new Samples(),
    caseIds: [],
    cpuMs: new Map(Object.entries(cpuMs)),
  };
}

function row(table: string, label: string): string[] {
  const line = table.split('\n').find((l) => l.startsWith(label));
  if (!line) throw new Error(`no row "${label}" in\n${table}`);
  return line.slice(label.length).trim().split(/\s+/);
}

it('when a /proc stat line is read, then utime and stime (fields 14 and 15) come back in ms, whatever spaces the command name holds', () => {
  // Arrange: utime 1234 and stime 56 ticks, after a name with spaces and a parenthesis
  const stat =
    '4242 (temporal (dev) server) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 12 0 5 0 0';

  // Act / Assert
  expect(cpuMsOfProcStat(stat)).toBe(12_900);
  expect(() => cpuMsOfProcStat('not a stat line')).toThrow('/proc');
});

it('when the sides used CPU, then the table shows it per case and the ratio of each side to the last one', () => {
  // Arrange: the engine used 300 ms over 2 cases, the baseline 200 ms over 4
  const engine = side('engine', 2, { ferretdb: 200, node: 100 });
  const baseline = side('baseline', 4, { ferretdb: 120, node: 80 });

  // Act
  const table = cpuTable([engine, baseline]);

  // Assert
  expect(row(table, 'ferretdb CPU ms / case')).toEqual(['100.0', '30.0', '3.33x']);
  expect(row(table, 'node CPU ms / case')).toEqual(['50.0', '20.0', '2.50x']);
  expect(row(table, 'all CPU ms / case')).toEqual(['150.0', '50.0', '3.00x']);
});

it("when the drivers' process is measured, then a last row sums the other processes", () => {
  // Arrange: the drivers used 40 ms over 2 engine cases and 20 ms over 4 baseline cases
  const engine = side('engine', 2, { ferretdb: 200, [DRIVERS_PROCESS]: 40 });
  const baseline = side('baseline', 4, { ferretdb: 120, [DRIVERS_PROCESS]: 20 });

  // Act
  const table = cpuTable([engine, baseline]);

  // Assert
  expect(row(table, 'all CPU ms / case')).toEqual(['120.0', '35.0', '3.43x']);
  expect(row(table, 'all but the drivers CPU ms / case')).toEqual(['100.0', '30.0', '3.33x']);
});

it("when store commands are counted, then each side's line shows its own database's commands per case, most first", () => {
  // Arrange: 4 cases in bench_a, 2 in bench_b
  const commands = {
    'bench_a find tasks': 8,
    'bench_a update cases': 12,
    'bench_b find tasks': 3,
  };

  // Act
  const lines = storeCommandLines(commands, [
    { name: 'a', database: 'bench_a', cases: 4 },
    { name: 'b', database: 'bench_b', cases: 2 },
  ]);

  // Assert
  expect(lines).toEqual([
    'a: 5.0 store commands per case (update cases 3.0, find tasks 2.0)',
    'b: 1.5 store commands per case (find tasks 1.5)',
  ]);
});

it('when stored documents are profiled, then the case document is shown per case and the task document per task', () => {
  // Arrange: two cases of 3,000 and 2,000 bytes and three tasks of 600 bytes each
  const profile = profileHistories([{ events: [] }, { events: [] }], {
    caseBytes: 5000,
    taskBytes: 1800,
    tasks: 3,
  });

  // Act
  const table = profileTable([['engine', profile]]);

  // Assert
  expect(row(table, 'case document (bytes, closed)')).toEqual(['2500']);
  expect(row(table, 'task document (bytes, closed)')).toEqual(['600']);
});

it("when a /proc stat line is read for its family, then the parent pid and the exited children's CPU (fields 16 and 17) come back in ms", () => {
  // Arrange: parent 77, cutime 300 and cstime 45 ticks, after a name with spaces
  const stat =
    '4242 (postgres: checkpointer) S 77 4242 4242 0 -1 4194560 100 0 0 0 1234 56 300 45 20 0 12 0 5 0 0';

  // Act
  const family = familyOfProcStat(stat);

  // Assert
  expect(family).toEqual({ ppid: 77, reapedChildrenMs: 3450 });
  expect(() => familyOfProcStat('not a stat line')).toThrow('/proc');
});
