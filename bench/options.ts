import path from 'node:path';
import { parseArgs } from 'node:util';

export interface Options {
  cases: number;
  concurrency: number;
  warmup: number;
  pollMs: number;
  profile: number;
  rounds: number;
  /** A folder for `node --cpu-prof` profiles of the engine's and the baseline's processes. */
  cpuProf: string | undefined;
}

export function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      cases: { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '4' },
      'poll-ms': { type: 'string', default: '20' },
      profile: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench -- [--cases N=50] [--concurrency C=8] [--warmup W=4] [--poll-ms MS=20] [--profile K=5] [--rounds R=3] [--cpu-prof DIR]\n',
    );
    process.exit(0);
  }
  const int = (name: string, value: string, min: number): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
    return n;
  };
  return {
    cases: int('cases', values.cases, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    warmup: int('warmup', values.warmup, 0),
    pollMs: int('poll-ms', values['poll-ms'], 1),
    profile: int('profile', values.profile, 0),
    rounds: int('rounds', values.rounds, 1),
    cpuProf: values['cpu-prof'] ? path.resolve(values['cpu-prof']) : undefined,
  };
}
