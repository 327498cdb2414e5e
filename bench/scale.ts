import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `npm run bench:scale`: the scale benchmark of issue 14, one line per figure and a last line
 * `scale: …`. It runs the benchmarks that measure each part, one after another, each in its own
 * process on its own throw-away stack (so one's leftovers never weigh on the next), reads their
 * printed figures and checks them against the targets:
 *
 * - the roll-call (`bench/rollcall.ts`): N people across compounds called, reporting in through
 *   the API, the missing escalated; largest history; mails expected, delivered, duplicated;
 * - the evaluation round (`bench/evaluation-round.ts`): N orders scored by three groups;
 * - the dashboard (`bench/dashboard.ts`): metrics, ranking, lists at each case count;
 * - the two-task benchmark (`bench/engine-overhead.ts`) on FerretDB/SQLite and, with
 *   `--stores sqlite,postgresql`, on FerretDB/PostgreSQL in the same run.
 *
 * A part whose script is missing or fails is reported as such; the others still run.
 */

interface Part {
  name: string;
  script: string;
  args: string[];
  env?: Record<string, string>;
}

interface PartResult {
  part: Part;
  ok: boolean;
  stdout: string;
  seconds: number;
}

const TARGETS = {
  /** Issue 14: all 10,000 called within 60 s. */
  calledSeconds: 60,
  /** Issue 14: no execution above 10,240 events or 10 MB. */
  maxEvents: 10_240,
  maxBytes: 10 * 1024 * 1024,
  /** Issue 14: dashboard p95 under 500 ms at 200,000 cases, at most 2x the figure at 20,000. */
  dashboardP95Ms: 500,
  dashboardGrowth: 2,
} as const;

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      people: { type: 'string', default: '10000' },
      compounds: { type: 'string', default: '300' },
      orders: { type: 'string', default: '3000' },
      cases: { type: 'string', default: '20000,200000' },
      'bench-cases': { type: 'string', default: '30' },
      stores: { type: 'string', default: 'sqlite,postgresql' },
      skip: { type: 'string', default: '' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench:scale -- [--people 10000] [--compounds 300] [--orders 3000] [--cases 20000,200000] [--bench-cases 30] [--stores sqlite,postgresql] [--skip rollcall,round,dashboard,engine]\n',
    );
    process.exit(0);
  }
  const positive = (name: string, value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1`);
    return n;
  };
  const sizes = values.cases.split(',').map((c) => positive('cases', c.trim()));
  const stores = values.stores.split(',').map((s) => s.trim());
  for (const store of stores) {
    if (store !== 'sqlite' && store !== 'postgresql') {
      throw new Error(`--stores takes sqlite and/or postgresql, not "${store}"`);
    }
  }
  const skip = new Set(values.skip.split(',').filter(Boolean));
  for (const name of skip) {
    if (!['rollcall', 'round', 'dashboard', 'engine'].includes(name)) {
      throw new Error(`--skip takes rollcall, round, dashboard, engine; not "${name}"`);
    }
  }
  return {
    people: positive('people', values.people),
    compounds: positive('compounds', values.compounds),
    orders: positive('orders', values.orders),
    sizes,
    benchCases: positive('bench-cases', values['bench-cases']),
    stores,
    skip,
  };
}

/** Runs one part's script, its progress (stderr) passed through, its figures (stdout) kept. */
function run(part: Part): Promise<PartResult> {
  const started = Date.now();
  const file = path.join(__dirname, part.script);
  if (!existsSync(file)) {
    process.stderr.write(`[scale] ${part.name}: ${part.script} is missing, skipped\n`);
    return Promise.resolve({ part, ok: false, stdout: '', seconds: 0 });
  }
  process.stderr.write(`[scale] ${part.name}: ${part.script} ${part.args.join(' ')}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...part.args], {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, ...part.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      process.stderr.write(chunk);
    });
    // Ctrl-C reaches the child too (same process group); it cleans up its own stack.
    child.on('close', (code) =>
      resolve({ part, ok: code === 0, stdout, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

function lineOf(stdout: string, prefix: string): string | undefined {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(prefix))
    .at(-1);
}

/** A row of a table printed with cells separated by two or more spaces, or by `|`. */
function rowOf(stdout: string, label: string): string[] | undefined {
  for (const raw of stdout.split('\n')) {
    const cells = raw.includes('|')
      ? raw
          .split('|')
          .map((c) => c.trim())
          .filter((c, i, all) => !(c === '' && (i === 0 || i === all.length - 1)))
      : raw.trim().split(/\s{2,}/);
    if (cells[0] === label) return cells.slice(1);
  }
  return undefined;
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const out: string[] = [];
  const say = (line: string) => {
    out.push(line);
    process.stdout.write(`${line}\n`);
  };
  const summary: string[] = [];
  let maxEvents = 0;
  let maxBytes = 0;

  if (!opts.skip.has('rollcall')) {
    const r = await run({
      name: 'roll-call',
      script: 'rollcall.ts',
      args: ['--people', String(opts.people), '--compounds', String(opts.compounds)],
    });
    const line = lineOf(r.stdout, 'rollcall:');
    const m = line?.match(
      /^rollcall: (\d+) people called in ([\d.]+) s; ([\d.]+) acks\/s; escalations ([\d.]+) s after the deadline; max history (\d+) events (\d+) bytes; mails (\d+) expected, (\d+) delivered, (\d+) duplicates/,
    );
    if (r.ok && m) {
      const [, people, called, acks, escalated, events, bytes, expected, delivered, dups] = m;
      say(`roll-call: ${people} people across ${opts.compounds} compounds`);
      say(`roll-call: all called in ${called} s (target ${TARGETS.calledSeconds} s)`);
      say(`roll-call: ${acks} acknowledgements per second through the API`);
      say(`roll-call: every missing person escalated ${escalated} s after the deadline`);
      say(`roll-call: largest history ${events} events, ${bytes} bytes`);
      say(`roll-call: mails ${expected} expected, ${delivered} delivered, ${dups} duplicated`);
      maxEvents = Math.max(maxEvents, Number(events));
      maxBytes = Math.max(maxBytes, Number(bytes));
      summary.push(`rollcall ${people} people called in ${called} s`);
    } else {
      say(`roll-call: did not complete (${r.ok ? 'no rollcall: line' : 'failed'})`);
      summary.push('rollcall failed');
    }
  }

  if (!opts.skip.has('round')) {
    const r = await run({
      name: 'evaluation round',
      script: 'evaluation-round.ts',
      args: ['--orders', String(opts.orders)],
    });
    const m = lineOf(r.stdout, 'round:')?.match(
      /^round: (\d+) orders in ([\d.]+) s, history (\d+) events (\d+) bytes/,
    );
    if (r.ok && m) {
      const [, orders, seconds, events, bytes] = m;
      say(
        `round: ${orders} orders, three scorer groups, scored and results computed in ${seconds} s`,
      );
      say(`round: history ${events} events, ${bytes} bytes`);
      maxEvents = Math.max(maxEvents, Number(events));
      maxBytes = Math.max(maxBytes, Number(bytes));
      summary.push(`round ${orders} orders in ${seconds} s`);
    } else {
      say(`round: did not complete (${r.ok ? 'no round: line' : 'failed'})`);
      summary.push('round failed');
    }
  }

  if (!opts.skip.has('dashboard')) {
    const r = await run({
      name: 'dashboard',
      script: 'dashboard.ts',
      args: ['--cases', opts.sizes.join(',')],
    });
    const reads = [
      'dashboard (metrics + ranking)',
      'metrics (county, half year)',
      'ranking (communities)',
      'case list',
      'inbox',
      'board',
    ];
    let largestP95: number | undefined;
    let smallestP95: number | undefined;
    for (const read of reads) {
      const cells = rowOf(r.stdout, read);
      if (!cells) continue;
      const parts = opts.sizes.map(
        (size, i) => `p50 ${cells[2 * i] ?? '?'} / p95 ${cells[2 * i + 1] ?? '?'} ms at ${size}`,
      );
      say(`dashboard: ${read}: ${parts.join('; ')}`);
      if (read === reads[0]) {
        smallestP95 = Number(cells[1]);
        largestP95 = Number(cells[2 * (opts.sizes.length - 1) + 1]);
      }
    }
    const largest = opts.sizes[opts.sizes.length - 1]!;
    if (r.ok && largestP95 !== undefined && Number.isFinite(largestP95)) {
      say(
        `dashboard: p95 ${largestP95} ms at ${largest} cases (target < ${TARGETS.dashboardP95Ms} ms, at most ${TARGETS.dashboardGrowth}x the ${smallestP95} ms at ${opts.sizes[0]})`,
      );
      summary.push(`dashboard p95 ${largestP95} ms at ${largest} cases`);
    } else {
      say(`dashboard: did not complete (${r.ok ? 'no dashboard row' : 'failed'})`);
      summary.push('dashboard failed');
    }
  }

  if (!opts.skip.has('engine')) {
    for (const store of opts.stores) {
      const r = await run({
        name: `two-task benchmark on ${store}`,
        script: 'engine-overhead.ts',
        args: ['--cases', String(opts.benchCases)],
        env: { STACK_STORE: store },
      });
      const rate = rowOf(r.stdout, 'cases/s');
      const cpu = rowOf(r.stdout, 'all CPU ms / case');
      if (r.ok && rate && cpu) {
        say(
          `engine (${store}): ${rate[0]} cases/s through the API, ${cpu[0]} CPU ms per case (baseline ${rate[2]} cases/s, ${cpu[2]} CPU ms)`,
        );
      } else {
        say(`engine (${store}): did not complete`);
      }
    }
  }

  say(
    `max history: ${maxEvents} events, ${maxBytes} bytes (target at most ${TARGETS.maxEvents} events, ${TARGETS.maxBytes} bytes)`,
  );
  process.stdout.write(`scale: ${summary.join('; ')}; max history ${maxEvents} events\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
