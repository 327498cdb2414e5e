import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type {
  DefinitionSpec,
  ParallelStepSpec,
  RepeatStepSpec,
  StepSpec,
} from '../../lang/definition';
import { validateDefinitionSource } from '../../lang/source';
import { allSteps, followingStepId, successorsOf } from '../../lang/steps';
import { escapeXml, renderDiagram } from '../../console/diagram';
import type { DiagramLabels } from '../../console/diagram-graph';
import { buildDiagramGraph, ENGLISH_DIAGRAM_LABELS } from '../../console/diagram-graph';
import { diagramLabels } from '../../console/admin-definition-view';
import { translator } from '../../console/i18n';
import { createMailRenderer } from '../../mail/renderer';

const options = { knownTemplates: createMailRenderer().templateNames };
const DEFINITIONS_DIR = path.join(__dirname, '..', '..', 'definitions');

function spec(steps: DefinitionSpec['steps']): DefinitionSpec {
  return {
    key: 'diagram-test',
    name: 'Diagram test',
    starters: ['resident'],
    roles: [],
    input: { fields: [] },
    deadlines: [],
    steps,
  };
}

const end = (id: string, name = id): StepSpec => ({ id, name, type: 'end', status: 'closed' });

function task(id: string, extra: Partial<Extract<StepSpec, { type: 'task' }>> = {}): StepSpec {
  return {
    id,
    name: id,
    type: 'task',
    candidates: [{ role: 'officer', unit: 'case' }],
    outcomes: [{ id: 'done', name: '完成', requiresComment: false }],
    announce: true,
    deadlines: [],
    ...extra,
  };
}

/** Opening and closing tags pair up, so the SVG is well-formed enough to embed. */
function expectBalancedTags(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([A-Za-z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** A repeat step's block (`steps[2].steps`), as lang/steps.ts's repeatedList names it. */
const repeatedBlock = /^steps\[(\d+)\]\.steps$/;

const shipped = readdirSync(DEFINITIONS_DIR)
  .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
  .sort();

describe('the shipped definitions', () => {
  it('are found', () => {
    expect(shipped.length).toBeGreaterThan(5);
  });

  it.each(shipped)(
    'when %s is drawn, then each step appears once and each transition has an edge',
    (file) => {
      const source = readFileSync(path.join(DEFINITIONS_DIR, file), 'utf8');
      const result = validateDefinitionSource(
        source,
        file.endsWith('.json') ? 'json' : 'yaml',
        options,
      );
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      const definition = result.spec;
      const svg = renderDiagram(definition, { idPrefix: 'd1' });
      const graph = buildDiagramGraph(definition);

      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).not.toMatch(/\sstyle=/);
      expectBalancedTags(svg);
      for (const { step } of allSteps(definition)) {
        expect(count(svg, `data-step="${step.id}"`)).toBe(1);
      }
      expect(count(svg, '<g class="edge')).toBe(graph.edges.length);

      // Every target successorsOf names (and every fall-through) is an edge of the graph.
      const keyOf = new Map(
        allSteps(definition).map(({ step, list }) => [step, `${list.path}/${step.id}`]),
      );
      const pairs = new Set(graph.edges.map((e) => `${e.from} -> ${e.to}`));
      for (const { step, list } of allSteps(definition)) {
        const from = keyOf.get(step)!;
        const { targets, fallsThrough } = successorsOf(step);
        if (step.type === 'parallel') {
          // The branches start from the step; its successor leaves from its join.
          for (const [b, branch] of step.branches.entries()) {
            const index = list.steps.indexOf(step);
            expect(pairs).toContain(
              `${from} -> ${list.path}[${index}].branches[${b}].steps/${branch.steps[0]!.id}`,
            );
          }
          for (const id of targets) expect(pairs).toContain(`${from}/join -> ${list.path}/${id}`);
          continue;
        }
        for (const id of targets) expect(pairs).toContain(`${from} -> ${list.path}/${id}`);
        if (fallsThrough) {
          const following = followingStepId(list, step.id);
          if (following !== undefined) {
            expect(pairs).toContain(`${from} -> ${list.path}/${following}`);
          } else if (repeatedBlock.test(list.path)) {
            // The end of a repeat's block loops back to the repeat step (the next iteration).
            const owner = definition.steps[Number(repeatedBlock.exec(list.path)![1])]!;
            expect(pairs).toContain(`${from} -> steps/${owner.id}`);
          } else if (list.isBranch) {
            expect([...pairs].some((p) => p.startsWith(`${from} -> `) && p.endsWith('/join'))).toBe(
              true,
            );
          }
        }
      }
    },
  );
});

describe('a small process', () => {
  const definition = spec([
    task('accept', {
      name: '受理 <script>alert(1)</script>',
      outcomes: [
        { id: 'ok', name: '同意 & 转办', requiresComment: false },
        { id: 'reject', name: '不予受理', next: 'refused', requiresComment: false },
      ],
    }),
    {
      id: 'route',
      name: '分流',
      type: 'decision',
      branches: [{ when: "data.level > 2 && data.kind == '<b>'", next: 'fix' }],
      otherwise: 'closed',
    },
    task('fix', {
      outcomes: [
        { id: 'fixed', name: '已整改', next: 'closed', requiresComment: false },
        { id: 'again', name: '重新受理', next: 'accept', requiresComment: false },
      ],
    }),
    end('closed', '办结'),
    { id: 'refused', name: '不受理', type: 'end', status: 'rejected' },
  ]);

  it('when a name or condition holds markup, then it is escaped and never raw', () => {
    const svg = renderDiagram(definition);
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain("'<b>'");
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('同意 &amp; 转办');
    expectBalancedTags(svg);
  });

  it('when outcomes and branches lead on, then their edges carry their names', () => {
    const graph = buildDiagramGraph(definition);
    const edge = (from: string, to: string) =>
      graph.edges.find((e) => e.from === `steps/${from}` && e.to === `steps/${to}`);
    expect(edge('accept', 'route')?.labels).toEqual(['同意 & 转办']);
    expect(edge('accept', 'refused')?.labels).toEqual(['不予受理']);
    expect(edge('route', 'fix')?.labels).toEqual(["data.level > 2 && data.kind == '<b>'"]);
    expect(edge('route', 'closed')?.labels).toEqual(['otherwise']);
    expect(edge('fix', 'accept')?.labels).toEqual(['重新受理']);
    expect(graph.edges).toHaveLength(6);
  });

  it('when a step returns to an earlier one, then the loop is drawn dashed in a lane', () => {
    const svg = renderDiagram(definition);
    expect(count(svg, 'class="edge edge-loop"')).toBe(1);
    expect(svg).toMatch(/data-from="steps\/fix" data-to="steps\/accept"/);
    expect(svg).toContain('stroke-dasharray');
  });

  it('when the process ends, then end steps have their own shape and the start is marked', () => {
    const svg = renderDiagram(definition);
    expect(count(svg, 'class="node node-end"')).toBe(2);
    expect(count(svg, 'node-start')).toBe(1);
    expect(svg).toMatch(/data-step="accept"/);
    expect(svg).toMatch(/<rect [^>]*rx="26"/); // a stadium: rounded to half its height
  });

  it('when labels are given, then the diagram speaks them', () => {
    const svg = renderDiagram(definition, {
      idPrefix: 'zh',
      title: '流程图',
      labels: { otherwise: '其他情况', type: (type) => (type === 'task' ? '办理任务' : type) },
    });
    expect(svg).toContain('其他情况');
    expect(svg).toContain('办理任务 · accept');
    expect(svg).toContain('<title id="zh-title">流程图</title>');
    expect(svg).toContain('marker-end="url(#zh-arrow)"');
  });

  it('when an id prefix holds odd characters, then ids stay plain tokens', () => {
    const svg = renderDiagram(definition, { idPrefix: 'a"><x y="' });
    expect(svg).not.toContain('"><x');
    expect(escapeXml('"<&\'>')).toBe('&quot;&lt;&amp;&#39;&gt;');
  });
});

type BranchSteps = ParallelStepSpec['branches'][number]['steps'];

describe('a parallel step', () => {
  const definition = spec([
    {
      id: 'both',
      name: '并行',
      type: 'parallel',
      join: 'any',
      branches: [
        { name: '甲', steps: [task('a1'), task('a2')] as BranchSteps },
        { name: '乙', steps: [{ id: 'b1', name: 'b1', type: 'timer', duration: 'P1D' }] },
      ],
    },
    end('closed'),
  ]);

  it('when drawn, then the branches fan out from the step and meet at its join', () => {
    const graph = buildDiagramGraph(definition);
    const pairs = graph.edges.map((e) => `${e.from} -> ${e.to} [${e.labels.join(',')}]`);
    expect(pairs).toEqual(
      expect.arrayContaining([
        'steps/both -> steps[0].branches[0].steps/a1 [甲]',
        'steps/both -> steps[0].branches[1].steps/b1 [乙]',
        'steps[0].branches[0].steps/a1 -> steps[0].branches[0].steps/a2 []',
        'steps[0].branches[0].steps/a2 -> steps/both/join []',
        'steps[0].branches[1].steps/b1 -> steps/both/join []',
        'steps/both/join -> steps/closed []',
      ]),
    );
    expect(pairs).toHaveLength(6);
    const svg = renderDiagram(definition, {
      labels: { join: (join) => (join === 'any' ? '任一分支完成即汇合' : '全部完成后汇合') },
    });
    expect(svg).toContain('任一分支完成即汇合');
    expect(count(svg, 'class="node node-join"')).toBe(1);
  });
});

type BlockSteps = RepeatStepSpec['steps'];

describe('a repeat step', () => {
  const block = [
    task('visit', {
      outcomes: [
        { id: 'met', name: '已见面', requiresComment: false },
        { id: 'absent', name: '不在家', next: 'note', requiresComment: false },
      ],
    }),
    { id: 'done', name: 'done', type: 'notify', to: [{ field: 'email' }], template: 'case-result' },
    { id: 'note', name: 'note', type: 'timer', duration: 'P1D' },
  ] as BlockSteps;
  const monthly = spec([
    { id: 'checkins', name: '每月回访', type: 'repeat', times: 6, every: 'P30D', steps: block },
    end('closed'),
  ]);
  const perDate = spec([
    { id: 'checkins', name: '按日回访', type: 'repeat', dates: 'data.visitDates', steps: block },
    end('closed'),
  ]);
  const loops = (definition: DefinitionSpec, labels?: Partial<DiagramLabels>) =>
    buildDiagramGraph(definition, { ...ENGLISH_DIAGRAM_LABELS, ...labels })
      .edges.filter((e) => e.to === 'steps/checkins')
      .map((e) => `${e.from} [${e.labels.join(',')}]`);

  it('when it repeats a number of times, then the edge looping back to it says how many and how often', () => {
    expect(loops(monthly)).toEqual(['steps[0].steps/note [6 times, every P30D]']);
    const svg = renderDiagram(monthly);
    expect(svg).toContain('6 times, every P30D');
    // The way into the block and the way on after it stay unlabelled
    const graph = buildDiagramGraph(monthly);
    const labelsOf = (from: string, to: string) =>
      graph.edges.find((e) => e.from === from && e.to === to)?.labels;
    expect(labelsOf('steps/checkins', 'steps[0].steps/visit')).toEqual([]);
    expect(labelsOf('steps/checkins', 'steps/closed')).toEqual([]);
  });

  it('when it repeats per date of a list, then the loop names the list', () => {
    expect(loops(perDate)).toEqual(['steps[0].steps/note [per date of data.visitDates]']);
  });

  it('when the console draws it in Chinese or English, then the loop speaks the reader’s language', () => {
    expect(loops(monthly, diagramLabels(translator('zh-CN')))[0]).toBe(
      'steps[0].steps/note [重复 6 次，每隔 P30D]',
    );
    expect(
      loops(
        spec([{ ...monthly.steps[0]!, every: undefined } as StepSpec, end('closed')]),
        diagramLabels(translator('zh-CN')),
      )[0],
    ).toBe('steps[0].steps/note [重复 6 次]');
    expect(loops(perDate, diagramLabels(translator('en')))[0]).toBe(
      'steps[0].steps/note [per date of data.visitDates]',
    );
    expect(renderDiagram(perDate, { labels: diagramLabels(translator('zh-CN')) })).toContain(
      '按 data.visitDates 中每个日期',
    );
  });
});
