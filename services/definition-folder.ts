import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SourceFormat, SourceProblem } from '../lang/source';
import { AppError } from './errors';

/**
 * Definitions kept as files (the shipped definitions/ folder, published at start-up): which files
 * count, and publishing a folder through the definition service's publish, with each problem
 * reported as `file:line:column` the way compilers print them.
 */

export const SHIPPED_DEFINITIONS_DIR = path.resolve(__dirname, '..', 'definitions');

/** Definition files in a folder: YAML or JSON, but not the JSON Schema that sits beside them. */
export function isDefinitionFile(name: string): boolean {
  return /\.(ya?ml|json)$/.test(name) && !name.endsWith('.schema.json');
}

/**
 * Publishes every definition file of a folder (see isDefinitionFile), in name order, through
 * `publish`; the first invalid file stops it with an Error naming the file and its problems.
 */
export async function publishFolder<R>(
  dir: string,
  publish: (file: { source: string; format: SourceFormat }) => Promise<R>,
): Promise<R[]> {
  const files = (await readdir(dir)).filter(isDefinitionFile).sort();
  const results: R[] = [];
  for (const file of files) {
    const source = await readFile(path.join(dir, file), 'utf8');
    try {
      results.push(await publish({ source, format: file.endsWith('.json') ? 'json' : 'yaml' }));
    } catch (err) {
      if (err instanceof AppError) {
        const problems = err.details
          .map((d) => `  ${file}${positionOf(d)}: ${d.path ? `${d.path}: ` : ''}${d.message}`)
          .join('\n');
        throw new Error(`definitions/${file}: ${err.message}\n${problems}`);
      }
      throw err;
    }
  }
  return results;
}

/** `:12:5` for a problem that knows its line and column, as compilers print it. */
function positionOf(detail: SourceProblem): string {
  return detail.line === undefined ? '' : `:${detail.line}:${detail.column ?? 1}`;
}
