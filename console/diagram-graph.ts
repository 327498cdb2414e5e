import type {
  DefinitionSpec,
  ParallelJoin,
  RepeatStepSpec,
  StepSpec,
  StepType,
} from '../lang/definition';
import type { StepList } from '../lang/steps';
import {
  branchLists,
  followingStepId,
  repeatedList,
  startStepId,
  successorsOf,
  topLevel,
} from '../lang/steps';

/**
 * A definition's steps as the graph a diagram draws (console/diagram.ts): one node per step and
 * per parallel join, one edge per way a case can move on, with the words a reader sees. A
 * `repeat` step's block is drawn like a branch that loops back to the step, the loop labelled
 * with how often it runs.
 */

export interface DiagramLabels {
  /** A step type as readers call it (`task` → 办理任务). */
  type(type: StepType): string;
  /** The edge of a decision taken when no branch is. */
  otherwise: string;
  /** The edge a returned (退单) task takes. */
  returned: string;
  /** The edge a claim pool takes when it closes with too few claimants. */
  unclaimed: string;
  /** The node where a parallel step's branches meet. */
  join(join: ParallelJoin): string;
  /** The loop of a repeat step's block: how many iterations (`6 times`, `per date of …`). */
  repeat(step: RepeatStepSpec): string;
  start: string;
}

export const ENGLISH_DIAGRAM_LABELS: DiagramLabels = {
  type: (type) => type,
  otherwise: 'otherwise',
  returned: 'returned',
  unclaimed: 'unclaimed',
  join: (join) =>
    join === 'all'
      ? 'join: all branches'
      : join === 'any'
        ? 'join: first branch'
        : `join: ${join.atLeast} branches`,
  repeat: (step) =>
    step.dates !== undefined
      ? `per date of ${step.dates}`
      : `${step.times ?? 0} times${step.every !== undefined ? `, every ${step.every}` : ''}`,
  start: 'start',
};

export type DiagramNodeKind = 'step' | 'join';

export interface DiagramNode {
  /** Unique in the graph: the list path and step id (`steps/accept`), or `<parallel>/join`. */
  key: string;
  kind: DiagramNodeKind;
  /** The step (for `join`, the parallel step it belongs to). */
  step: StepSpec;
  isStart: boolean;
}

export interface DiagramEdge {
  from: string;
  to: string;
  /** Outcome names, a branch name or condition, `otherwise`…; empty when the step just goes on. */
  labels: string[];
}

export interface DiagramGraph {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
}

/**
 * The graph a definition's steps make: one node per step (parallel branches included) and one
 * per parallel join; one edge per distinct transition (several outcomes going to the same step
 * share an edge, their names joined).
 */
export function buildDiagramGraph(
  spec: DefinitionSpec,
  labels: DiagramLabels = ENGLISH_DIAGRAM_LABELS,
): DiagramGraph {
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const byPair = new Map<string, DiagramEdge>();
  const start = startStepId(spec);

  const addEdge = (from: string, to: string, label?: string) => {
    const pair = `${from}\u0001${to}`;
    let edge = byPair.get(pair);
    if (!edge) {
      edge = { from, to, labels: [] };
      byPair.set(pair, edge);
      edges.push(edge);
    }
    if (label && !edge.labels.includes(label)) edge.labels.push(label);
  };

  const addList = (list: StepList, joinKey: string | null) => {
    const keyOf = (id: string) => `${list.path}/${id}`;
    for (const step of list.steps) {
      nodes.push({
        key: keyOf(step.id),
        kind: 'step',
        step,
        isStart: !list.isBranch && step.id === start,
      });
    }
    for (const step of list.steps) {
      const from = keyOf(step.id);
      // Where the step goes when it goes on without a named target: the following step, or the
      // end of its branch (the join); at the end of the top level, nowhere.
      const onward = (): string | null => {
        const following = followingStepId(list, step.id);
        return following !== undefined ? keyOf(following) : list.isBranch ? joinKey : null;
      };
      const connect = (to: string | null, label?: string) => {
        if (to !== null) addEdge(from, to, label);
      };
      const via = (next: string | undefined) => (next !== undefined ? keyOf(next) : onward());

      switch (step.type) {
        case 'end':
          break;
        case 'decision':
          for (const branch of step.branches) connect(keyOf(branch.next), branch.when);
          connect(keyOf(step.otherwise), labels.otherwise);
          break;
        case 'task': {
          const named = step.outcomes.length > 1 || step.outcomes.some((o) => o.id !== 'done');
          for (const outcome of step.outcomes) {
            connect(
              outcome.next !== undefined ? keyOf(outcome.next) : via(step.next),
              named ? outcome.name : undefined,
            );
          }
          if (step.onReturn !== undefined) connect(keyOf(step.onReturn), labels.returned);
          break;
        }
        case 'claim':
          if (step.onUnclaimed !== undefined) connect(keyOf(step.onUnclaimed), labels.unclaimed);
          connect(via(step.next));
          break;
        case 'parallel': {
          const join = `${from}/join`;
          nodes.push({ key: join, kind: 'join', step, isStart: false });
          const branches = branchLists(step, `${list.path}[${list.steps.indexOf(step)}]`);
          step.branches.forEach((branch, b) => {
            const first = branch.steps[0];
            if (first) addEdge(from, `${branches[b]!.path}/${first.id}`, branch.name);
          });
          for (const branch of branches) addList(branch, join);
          const after = via(step.next);
          if (after !== null) addEdge(join, after);
          break;
        }
        case 'repeat': {
          // The block hangs off the step: into its first step, and from wherever an iteration
          // runs off the block's end back to the step (the next iteration, drawn as a loop).
          const block = repeatedList(step, `${list.path}[${list.steps.indexOf(step)}]`);
          const first = block.steps[0];
          if (first) addEdge(from, `${block.path}/${first.id}`);
          addList(block, from);
          // The loop says how often it runs: on each edge back from the block to the step.
          const loop = labels.repeat(step);
          for (const edge of edges) {
            if (edge.to === from && edge.from.startsWith(`${block.path}/`)) {
              if (!edge.labels.includes(loop)) edge.labels.push(loop);
            }
          }
          connect(via(step.next));
          break;
        }
        default:
          connect(via(step.next));
      }
      // Anything successorsOf names that the cases above did not draw (a future step type).
      const { targets, fallsThrough } = successorsOf(step);
      if (step.type !== 'parallel') {
        for (const id of targets) {
          const to = keyOf(id);
          if (!byPair.has(`${from}\u0001${to}`)) addEdge(from, to);
        }
        const implicit = fallsThrough ? onward() : null;
        if (implicit !== null && !byPair.has(`${from}\u0001${implicit}`)) addEdge(from, implicit);
      }
    }
  };

  addList(topLevel(spec), null);
  // Edges to steps that do not exist (an unvalidated spec) are dropped rather than drawn to nowhere.
  const known = new Set(nodes.map((n) => n.key));
  return { nodes, edges: edges.filter((e) => known.has(e.from) && known.has(e.to)) };
}
