/**
 * The processes the guide is about: every definition in `definitions/`, parsed and validated as
 * publishing does (with the mail templates that exist), with the comment at the top of its file.
 */

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { DefinitionSpec, StepSpec } from '../../lang/definition';
import { validateDefinitionSource } from '../../lang/source';
import { createMailRenderer } from '../../mail/renderer';

export const ROOT = path.resolve(__dirname, '..', '..');
const DEFINITIONS_DIR = path.join(ROOT, 'definitions');

export interface Process {
  file: string;
  spec: DefinitionSpec;
  header: string[];
}

export interface StartedBy {
  parent: Process;
  step: StepSpec & { type: 'subprocess' };
}

export function loadProcesses(): Process[] {
  const knownTemplates = createMailRenderer().templateNames;
  const files = readdirSync(DEFINITIONS_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
    .sort();
  return files.map((file) => {
    const text = readFileSync(path.join(DEFINITIONS_DIR, file), 'utf8');
    const result = validateDefinitionSource(text, file.endsWith('.json') ? 'json' : 'yaml', {
      knownTemplates,
    });
    if (!result.ok) {
      const problems = result.problems
        .map((p) => `  ${p.line ?? '?'}:${p.column ?? '?'} ${p.path}: ${p.message}`)
        .join('\n');
      throw new Error(`definitions/${file} is not valid:\n${problems}`);
    }
    return { file, spec: result.spec, header: headerComment(text) };
  });
}

/** The `#` lines at the top of a file, without the editor's schema line. */
function headerComment(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('#')) break;
    if (line.startsWith('# yaml-language-server:')) continue;
    lines.push(line.replace(/^#\s?/, '').trim());
  }
  return lines;
}
