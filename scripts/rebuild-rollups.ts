import { backfillListDays } from '../activities/list-days';
import { backfillOpenCases } from '../activities/open-cases';
import { rebuildRollups } from '../activities/metric-rollups';
import { backfillServedBy } from '../activities/served-backfill';
import { loadConfig } from '../common/config';
import { connectDatabase } from '../models';

/**
 * `npm run rebuild-rollups`: recomputes the metric roll-ups from the case documents of the
 * configured MongoDB (MONGODB_URI; by default the local stack's). The safety net of
 * activities/metric-rollups.ts: after an upgrade from a version without roll-ups, or if a
 * projection's change was ever counted twice. First it backfills who served (`servedBy`) on the
 * closed cases projected before it was recorded (activities/served-backfill.ts), so the figures
 * per serving unit and person count them. Then it gives every case its list and board day keys
 * over the unit tree as it stands, recounts the day markers and seals every day's exact count
 * (activities/list-days.ts), and re-syncs the open cases' index (activities/open-cases.ts): after
 * units moved, or to repair the counts. Run it while no worker projects cases.
 */
async function main(): Promise<number> {
  const config = loadConfig(process.env);
  const db = await connectDatabase(config.MONGODB_URI);
  try {
    const started = Date.now();
    const served = await backfillServedBy(db.models);
    process.stdout.write(
      `Who served: ${served.written} of ${served.cases} closed cases without it filled in` +
        (served.noDefinition > 0
          ? ` (${served.noDefinition} left: their definition version is not in the store)`
          : '') +
        '.\n',
    );
    const keys = await backfillListDays(db.models, { pruneStale: true });
    process.stdout.write(
      `List and board day keys: ${keys.written} of ${keys.cases} cases written, ${keys.markers} day markers recounted.\n`,
    );
    const open = await backfillOpenCases(db.models);
    process.stdout.write(`Open cases' index: ${open.open} open cases.\n`);
    const report = await rebuildRollups(db.models);
    process.stdout.write(
      `Rebuilt ${report.rollups} roll-ups from ${report.cases} cases ` +
        `(${report.casesMarked} cases re-marked) in ${((Date.now() - started) / 1000).toFixed(1)}s.\n`,
    );
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  },
);
