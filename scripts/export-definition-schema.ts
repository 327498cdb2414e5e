import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { definitionJsonSchema } from '../lang/source';

/**
 * Writes `definitions/definition.schema.json` (`npm run schema`), the JSON Schema editors use to
 * complete and check definition files. Generated from the language's zod schema; a unit test
 * fails when the committed file no longer matches, so run this after changing the language.
 */
async function main(): Promise<void> {
  const out = path.resolve(__dirname, '..', 'definitions', 'definition.schema.json');
  const options = await resolveConfig(out);
  const text = await format(JSON.stringify(definitionJsonSchema()), {
    ...options,
    filepath: out,
  });
  await writeFile(out, text);
  process.stdout.write(`definition schema written to ${path.relative(process.cwd(), out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
