import { ConfigError, loadConfig } from '../common/config';
import { withLocalStackCodecKeys } from '../stack/codec-key';
import { DEMO_COUNTY_ID } from './county';
import { demoAccountLines, openDemoSeedDeps, seedDemo } from './seed';

/**
 * `npm run seed [-- --force]`: loads the demo county into the configured MongoDB (MONGODB_URI;
 * by default the local stack's, so run `npm start` or `npm run stack` first). Running it again
 * changes nothing. A store with org data of its own is refused unless `--force` (the demo county
 * is then added next to that data; nothing of it is changed or removed).
 */
const USAGE = 'usage: npm run seed [-- --force]';

async function main(args: string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--force');
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (unknown.length > 0) throw new UsageError(`unknown argument ${unknown[0]}\n${USAGE}`);
  const force = args.includes('--force');
  // Beside `npm start`, the stack's payload codec key (the seed's imports run as workflows).
  const config = loadConfig(withLocalStackCodecKeys(process.env));
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`Demo county → ${withoutCredentials(config.MONGODB_URI)}`);
  const seeder = await openDemoSeedDeps(config, (line) => print(`  ${line}`), {
    history: true,
  }).catch((err: unknown) => {
    throw new UsageError(
      `Cannot reach MongoDB at ${withoutCredentials(config.MONGODB_URI)} (${(err as Error).message}).\n` +
        'Start the local stack first (npm start, or npm run stack), or set MONGODB_URI and TEMPORAL_ADDRESS.',
    );
  });
  try {
    const report = await seedDemo(seeder.deps, { force });
    if (report.status === 'refused') {
      const { units, people, posts } = report.foreign;
      process.stderr.write(
        `Refused: the store already has org data that is not the demo county's ` +
          `(${plural(units, 'unit')}, ${plural(people, 'person', 'people')}, ${plural(posts, 'post')}).\n` +
          `Run with --force to add the demo county (root "${DEMO_COUNTY_ID}") next to it.\n`,
      );
      return 2;
    }
    const seconds = (report.ms / 1000).toFixed(1);
    if (report.foreign) print('Added next to the org data already there (--force).');
    print(
      report.status === 'unchanged'
        ? `The demo county is already loaded: nothing changed (checked in ${seconds}s).`
        : `Loaded the demo county in ${seconds}s.`,
    );
    for (const line of demoAccountLines(report.accounts)) print(line);
    return 0;
  } finally {
    await seeder.close();
  }
}

class UsageError extends Error {}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function withoutCredentials(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const known = err instanceof UsageError || err instanceof ConfigError;
    process.stderr.write(`${known ? err.message : ((err as Error).stack ?? String(err))}\n`);
    process.exit(1);
  },
);
