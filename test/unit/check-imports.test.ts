import { breaches, cyclesOf, importGraph } from '../../scripts/check-imports';

function graphOf(sources: Record<string, string>) {
  return importGraph(Object.keys(sources), (file) => sources[file] ?? '');
}

describe('the import rules (scripts/check-imports.ts)', () => {
  it('when two files import each other only as types, then it is still a cycle', () => {
    const graph = graphOf({
      'lang/a.ts': "import type { B } from './b';",
      'lang/b.ts': "import type { A } from './a';",
      'lang/c.ts': "import { A } from './a';",
    });
    expect(cyclesOf(graph.edges)).toEqual([['lang/a.ts', 'lang/b.ts']]);
  });

  it('when a lower layer imports a higher one, then that import is named', () => {
    const graph = graphOf({
      'common/x.ts': "import { s } from '../services/s';",
      'services/s.ts': "import { x } from '../common/x';\nexport const s = 1;",
    });
    expect(breaches(graph)).toEqual(
      expect.arrayContaining([
        'upward import: common/x.ts → services/s.ts',
        'cycle: common/x.ts → services/s.ts',
      ]),
    );
  });

  it('when the console imports the API edge or source imports test/, then each is named', () => {
    const graph = graphOf({
      'console/page.ts': "import { app } from '../api/app';",
      'api/app.ts': 'export const app = 1;',
      'scripts/tool.ts': "import { fixture } from '../test/fixtures/definitions';",
    });
    expect(breaches(graph)).toEqual([
      'console imports the API edge: console/page.ts → api/app.ts',
      'imports test/: scripts/tool.ts → ../test/fixtures/definitions',
    ]);
  });

  it('when imports point down and a folder index is imported, then nothing is reported', () => {
    const graph = graphOf({
      'api/routes.ts': "import { s } from '../services/s';",
      'services/s.ts': "import { e } from '../lang/expression';",
      'lang/expression/index.ts': "export { e } from './parser';",
      'lang/expression/parser.ts': 'export const e = 1;',
    });
    expect(breaches(graph)).toEqual([]);
    expect(graph.edges.get('services/s.ts')).toEqual(new Set(['lang/expression/index.ts']));
  });
});
