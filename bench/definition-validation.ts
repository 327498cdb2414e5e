import { MAX_NESTING_DEPTH, MAX_SYNTAX_MARKS, validateDefinitionSource } from '../lang/source';

/**
 * How long one definition takes to check (parse, limits, schema, meaning, positions), for sources
 * of many keys and deep nesting, and for the worst sources the limits still accept: the work the
 * API does on its event loop per POST /api/v1/definitions/validate, drafts and publish.
 * `node --import tsx bench/definition-validation.ts`; add `--cpu-prof` to see where time goes.
 */

const options = { knownTemplates: new Set(['case-received']) };
const head = [
  'key: big',
  'name: Big',
  'starters: [admin]',
  'input:',
  '  fields: []',
  'steps:',
  '  - { id: closed, name: end, type: end }',
];

function yamlKeys(n: number): string {
  const keys = Array.from({ length: n }, (_, i) => `key${String(i).padStart(6, '0')}: x`);
  return [...head, ...keys].join('\n') + '\n';
}

function jsonKeys(n: number): string {
  const spec: Record<string, unknown> = {
    key: 'big',
    name: 'Big',
    starters: ['admin'],
    input: { fields: [] },
    steps: [{ id: 'closed', name: 'end', type: 'end' }],
  };
  for (let i = 0; i < n; i++) spec[`key${i}`] = 'x';
  return JSON.stringify(spec);
}

/** Median and worst of a few runs, in ms. */
function time(text: string, format: 'yaml' | 'json', runs = 5): string {
  const ms: number[] = [];
  let outcome = '';
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = validateDefinitionSource(text, format, options);
    ms.push(performance.now() - started);
    outcome = result.ok ? 'valid' : result.problems[0]!.message.slice(0, 70);
  }
  ms.sort((a, b) => a - b);
  const kb = (text.length / 1024).toFixed(0);
  return `${ms[runs >> 1]!.toFixed(1).padStart(8)} ms median ${ms[runs - 1]!.toFixed(1).padStart(8)} ms worst  ${kb.padStart(4)} KB  ${outcome}`;
}

const cases: Array<[string, string, 'yaml' | 'json']> = [];
for (const n of [1_000, 5_000, 10_000, 20_000, 40_000]) {
  cases.push([`${n} keys, YAML`, yamlKeys(n), 'yaml'], [`${n} keys, JSON`, jsonKeys(n), 'json']);
}
for (const n of [1_000, 200_000]) {
  cases.push(
    [`${n} nested [, YAML`, '['.repeat(n), 'yaml'],
    [`${n} nested [, JSON`, '['.repeat(n), 'json'],
    [`${n} nested "- ", YAML`, '- '.repeat(n) + 'x', 'yaml'],
  );
}
// The worst the limits accept: as many nodes per syntax mark as YAML allows, nested to the limit.
const under = MAX_SYNTAX_MARKS - 200;
cases.push(
  [`${under / 2} keys (at the mark limit)`, yamlKeys(under / 2 - 10), 'yaml'],
  [
    `flow list of ${under} items`,
    `${head.join('\n')}\nextra: [${'x,'.repeat(under - 20)}x]\n`,
    'yaml',
  ],
  [
    `${MAX_NESTING_DEPTH} nested lists, 480 KB`,
    `${head.join('\n')}\nextra: ${'['.repeat(MAX_NESTING_DEPTH - 2)}${'lorem ipsum '.repeat(40_000)}${']'.repeat(MAX_NESTING_DEPTH - 2)}\n`,
    'yaml',
  ],
);

for (const [label, text, format] of cases) {
  console.log(`${label.padEnd(36)} ${time(text, format, text.length > 100_000 ? 3 : 5)}`);
}
