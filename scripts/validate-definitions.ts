/**
 * Checks definition files the way publishing does (schema, references, expressions, roles,
 * templates) without a server: `npm run validate-definitions -- definitions/*.yaml`. With no
 * arguments it checks every definition in definitions/. Exits 1 when any file has a problem.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { validateDefinitionSource } from '../lang/source';
import { createMailRenderer } from '../mail/renderer';

const DEFINITIONS_DIR = path.join(__dirname, '..', 'definitions');

function definitionFiles(args: readonly string[]): string[] {
  if (args.length > 0) return [...args];
  return readdirSync(DEFINITIONS_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
    .sort()
    .map((f) => path.join(DEFINITIONS_DIR, f));
}

const knownTemplates = createMailRenderer().templateNames;
// The processes an assessment may read: the shipped ones and the files checked now.
const knownDefinitions = new Set(
  [...definitionFiles([]), ...definitionFiles(process.argv.slice(2))].flatMap((file) => {
    const result = validateDefinitionSource(
      readFileSync(file, 'utf8'),
      file.endsWith('.json') ? 'json' : 'yaml',
      { knownTemplates },
    );
    return result.ok ? [result.spec.key] : [];
  }),
);
let failed = 0;
for (const file of definitionFiles(process.argv.slice(2))) {
  const format = file.endsWith('.json') ? 'json' : 'yaml';
  const result = validateDefinitionSource(readFileSync(file, 'utf8'), format, {
    knownTemplates,
    knownDefinitions,
  });
  if (result.ok) {
    console.log(`ok      ${path.relative(process.cwd(), file)} (${result.spec.key})`);
    continue;
  }
  failed++;
  console.log(`invalid ${path.relative(process.cwd(), file)}`);
  for (const problem of result.problems) {
    const where =
      'line' in problem && problem.line !== undefined
        ? `${String(problem.line)}:${String(problem.column)} `
        : '';
    console.log(`  ${where}${problem.path}: ${problem.message}`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
