import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `npm run check-imports` (part of `npm run lint`): the house rules of the import graph, which
 * eslint's `import-x/no-cycle` does not fully state because it skips type-only imports.
 * - no cycle between source files, type-only imports included (a type cycle still ties the
 *   files' meaning together, and becomes a runtime cycle at the first value import);
 * - layers point down: edges → services → workflows/activities → lang/common/models/mail;
 * - `console/` never imports `api/` (both are edges over services/);
 * - nothing outside `test/` imports `test/`.
 * Prints every breach and exits 1 if there is one.
 */

/** Top-level folders and root files by layer, highest first; a file may import its own layer or lower. */
export const LAYERS: readonly (readonly string[])[] = [
  ['server.ts', 'worker.ts', 'api', 'console', 'demo', 'bench', 'scripts', 'stack'],
  ['services'],
  ['workflows', 'activities'],
  ['lang', 'common', 'models', 'mail', 'calendars'],
];

const IMPORT =
  /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]*)['"]|import\(\s*['"](\.[^'"]*)['"]\s*\)|require\(\s*['"](\.[^'"]*)['"]\s*\)/g;

export interface ImportGraph {
  /** Source file → the source files it imports (repository-relative paths). */
  edges: Map<string, Set<string>>;
  /** Imports of anything under test/ from outside it. */
  testImports: Array<[string, string]>;
}

export function isSource(file: string): boolean {
  return (
    file.endsWith('.ts') &&
    !file.endsWith('.d.ts') &&
    !file.endsWith('.test.ts') &&
    !file.startsWith('test/')
  );
}

/** The graph of relative imports between the given files, read through `read`. */
export function importGraph(files: readonly string[], read: (file: string) => string): ImportGraph {
  const known = new Set(files);
  const resolve = (from: string, spec: string): string | null => {
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
    for (const candidate of [
      `${base}.ts`,
      `${base}/index.ts`,
      base,
      base.replace(/\.js$/, '.ts'),
    ]) {
      if (known.has(candidate)) return candidate;
    }
    return null;
  };
  const edges = new Map<string, Set<string>>();
  const testImports: Array<[string, string]> = [];
  for (const file of files.filter(isSource)) {
    const targets = new Set<string>();
    for (const match of read(file).matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (spec === undefined) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (target === 'test' || target.startsWith('test/')) testImports.push([file, spec]);
      const resolved = resolve(file, spec);
      if (resolved !== null && isSource(resolved)) targets.add(resolved);
    }
    edges.set(file, targets);
  }
  return { edges, testImports };
}

/** Strongly connected components of more than one file (Tarjan), each sorted. */
export function cyclesOf(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

function layerOf(file: string): number | null {
  const top = file.includes('/') ? file.slice(0, file.indexOf('/')) : file;
  const at = LAYERS.findIndex((layer) => layer.includes(top));
  return at === -1 ? null : at;
}

/** Every breach of the rules above, one line each. */
export function breaches(graph: ImportGraph): string[] {
  const lines: string[] = [];
  for (const cycle of cyclesOf(graph.edges)) lines.push(`cycle: ${cycle.join(' → ')}`);
  for (const [from, targets] of graph.edges) {
    for (const to of targets) {
      const [a, b] = [layerOf(from), layerOf(to)];
      if (a !== null && b !== null && b < a) lines.push(`upward import: ${from} → ${to}`);
      if (from.startsWith('console/') && to.startsWith('api/')) {
        lines.push(`console imports the API edge: ${from} → ${to}`);
      }
    }
  }
  for (const [from, spec] of graph.testImports) lines.push(`imports test/: ${from} → ${spec}`);
  return lines;
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..');
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f.endsWith('.ts') && existsSync(path.join(root, f)));
  const graph = importGraph(files, (f) => readFileSync(path.join(root, f), 'utf8'));
  const found = breaches(graph);
  for (const line of found) console.error(line);
  console.log(
    `check-imports: ${graph.edges.size} source files, ${found.length} breach(es) of the import rules`,
  );
  process.exit(found.length === 0 ? 0 : 1);
}
