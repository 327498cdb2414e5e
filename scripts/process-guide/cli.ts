/** `npm run process-guide`: writes the guide to docs/process-library.md (see index.ts). */

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateProcessGuide, PROCESS_GUIDE_PATH } from './index';

async function main(): Promise<void> {
  const text = await generateProcessGuide();
  writeFileSync(PROCESS_GUIDE_PATH, text);
  process.stdout.write(
    `process guide written to ${path.relative(process.cwd(), PROCESS_GUIDE_PATH)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
