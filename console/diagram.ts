import type { DefinitionSpec, StepSpec, StepType } from '../lang/definition';
import type { StepList } from '../lang/steps';
import { branchLists, followingStepId, startStepId, successorsOf, topLevel } from '../lang/steps';
import { escapeXml } from './escape';
import { fitText, textWidth } from './text-width';

/**
 * A definition's steps drawn as an SVG diagram: a pure function of the spec (no I/O, no clock).
 * Layered layout: each step sits on the layer of its longest path from the start step (loops
 * are cut where they return to a step already on the path), edges that skip layers pass through
 * reserved slots, and the order within a layer is improved by a few barycentre sweeps. Loops are
 * drawn dashed in a lane beside the rows they span. A parallel step fans out to its branches, which meet
 * again at a join before the step's own successor.
 *
 * Everything that comes from the definition (names, branch conditions) is escaped; the SVG uses
 * presentation attributes only (no `style=`), so it passes a `style-src 'self'` CSP.
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
  join(join: 'all' | 'any'): string;
  start: string;
}

export interface DiagramOptions {
  /** Prefix of ids inside the SVG (the arrow marker, the title), unique on the page. */
  idPrefix?: string;
  /** The accessible name of the diagram. */
  title?: string;
  labels?: Partial<DiagramLabels>;
}

export const ENGLISH_DIAGRAM_LABELS: DiagramLabels = {
  type: (type) => type,
  otherwise: 'otherwise',
  returned: 'returned',
  unclaimed: 'unclaimed',
  join: (join) => (join === 'all' ? 'join: all branches' : 'join: first branch'),
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

// ---------------------------------------------------------------------------------------------
// Layout

const NODE_W = 184;
const NODE_H = 52;
const JOIN_W = 176;
const DUMMY_W = 18;
const H_GAP = 30;
const V_GAP = 64;
const MARGIN = 24;
const TOP = 56; // room for the start marker
const LANE_GAP = 14;

interface Slot {
  /** A node key, or a dummy point of a long edge. */
  key: string;
  node: DiagramNode | null;
  layer: number;
  order: number;
  width: number;
  x: number;
  y: number;
}

interface Loop {
  edge: DiagramEdge;
  side: 'left' | 'right';
  /** The x of the vertical run. */
  lane: number;
  /** 1 for the innermost lane of its side. */
  index: number;
}

interface Layout {
  slots: Map<string, Slot>;
  forward: Array<{ edge: DiagramEdge; points: string[] }>;
  loops: Loop[];
  width: number;
  height: number;
  layers: Slot[][];
}

function layout(graph: DiagramGraph): Layout {
  const out = new Map<string, DiagramEdge[]>();
  for (const node of graph.nodes) out.set(node.key, []);
  for (const edge of graph.edges) out.get(edge.from)!.push(edge);

  // Depth-first from the start (then from anything not reached), marking edges that return to
  // a step on the current path as loops.
  const state = new Map<string, 'open' | 'done'>();
  const back = new Set<DiagramEdge>();
  const postorder: string[] = [];
  const visit = (key: string) => {
    state.set(key, 'open');
    for (const edge of out.get(key)!) {
      const seen = state.get(edge.to);
      if (seen === 'open') back.add(edge);
      else if (seen === undefined) visit(edge.to);
    }
    state.set(key, 'done');
    postorder.push(key);
  };
  const roots = [...graph.nodes.filter((n) => n.isStart), ...graph.nodes.filter((n) => !n.isStart)];
  for (const node of roots) if (!state.has(node.key)) visit(node.key);
  const rank = new Map([...postorder].reverse().map((key, i) => [key, i]));

  // Longest path layering over the forward edges, in topological order.
  const layerOf = new Map<string, number>();
  for (const key of [...postorder].reverse()) {
    if (!layerOf.has(key)) layerOf.set(key, 0);
    for (const edge of out.get(key)!) {
      if (back.has(edge)) continue;
      layerOf.set(edge.to, Math.max(layerOf.get(edge.to) ?? 0, layerOf.get(key)! + 1));
    }
  }

  const slots = new Map<string, Slot>();
  const layers: Slot[][] = [];
  const place = (slot: Omit<Slot, 'order' | 'x' | 'y'>) => {
    const full: Slot = { ...slot, order: 0, x: 0, y: 0 };
    slots.set(full.key, full);
    (layers[full.layer] ??= []).push(full);
  };
  const nodesInOrder = [...graph.nodes].sort((a, b) => rank.get(a.key)! - rank.get(b.key)!);
  for (const node of nodesInOrder) {
    place({
      key: node.key,
      node,
      layer: layerOf.get(node.key)!,
      width: node.kind === 'join' ? JOIN_W : NODE_W,
    });
  }
  // Long forward edges get a dummy point on each layer they cross.
  const forward: Layout['forward'] = [];
  graph.edges.forEach((edge, e) => {
    if (back.has(edge)) return;
    const points = [edge.from];
    for (let layer = layerOf.get(edge.from)! + 1; layer < layerOf.get(edge.to)!; layer++) {
      const key = `\u0002${e}:${layer}`;
      place({ key, node: null, layer, width: DUMMY_W });
      points.push(key);
    }
    points.push(edge.to);
    forward.push({ edge, points });
  });

  // Order within layers: barycentres of neighbours, sweeping down and up a few times.
  const up = new Map<string, string[]>();
  const down = new Map<string, string[]>();
  for (const { points } of forward) {
    for (let i = 0; i + 1 < points.length; i++) {
      (down.get(points[i]!) ?? down.set(points[i]!, []).get(points[i]!)!).push(points[i + 1]!);
      (up.get(points[i + 1]!) ?? up.set(points[i + 1]!, []).get(points[i + 1]!)!).push(points[i]!);
    }
  }
  const renumber = (layer: Slot[]) => layer.forEach((slot, i) => (slot.order = i));
  layers.forEach((layer) => renumber(layer));
  const sweep = (layer: Slot[], neighbours: Map<string, string[]>) => {
    const centre = new Map<Slot, number>();
    for (const slot of layer) {
      const around = (neighbours.get(slot.key) ?? []).map((k) => slots.get(k)!.order);
      centre.set(
        slot,
        around.length > 0 ? around.reduce((a, b) => a + b, 0) / around.length : slot.order,
      );
    }
    layer.sort((a, b) => centre.get(a)! - centre.get(b)! || a.order - b.order);
    renumber(layer);
  };
  for (let round = 0; round < 4; round++) {
    for (let l = 1; l < layers.length; l++) sweep(layers[l]!, up);
    for (let l = layers.length - 2; l >= 0; l--) sweep(layers[l]!, down);
  }

  // Coordinates: layers as rows, each row centred on the widest.
  const rowWidth = (layer: Slot[]) =>
    layer.reduce((sum, s) => sum + s.width, 0) + H_GAP * Math.max(0, layer.length - 1);
  const widest = Math.max(NODE_W, ...layers.map(rowWidth));
  layers.forEach((layer, l) => {
    let x = MARGIN + (widest - rowWidth(layer)) / 2;
    for (const slot of layer) {
      slot.x = x;
      slot.y = TOP + l * (NODE_H + V_GAP);
      x += slot.width + H_GAP;
    }
  });
  // Loops run in a lane beside the rows they span: on the left for a step left of the middle,
  // else on the right, each in its own lane so none overlap.
  const middle = MARGIN + widest / 2;
  const sides = { left: 0, right: 0 };
  const loops: Loop[] = graph.edges
    .filter((edge) => back.has(edge))
    .map((edge) => {
      const from = slots.get(edge.from)!;
      const to = slots.get(edge.to)!;
      const spanned = layers.slice(to.layer, from.layer + 1).flat();
      const side = from.x + from.width / 2 < middle ? 'left' : 'right';
      const k = ++sides[side];
      const lane =
        side === 'left'
          ? Math.min(...spanned.map((s) => s.x)) - LANE_GAP * k
          : Math.max(...spanned.map((s) => s.x + s.width)) + LANE_GAP * k;
      return { edge, side, lane, index: k };
    });
  // Make room for left lanes.
  const shift = Math.max(0, MARGIN - Math.min(MARGIN, ...loops.map((l) => l.lane - 8)));
  if (shift > 0) {
    for (const slot of slots.values()) slot.x += shift;
    for (const loop of loops) loop.lane += shift;
  }
  const right = Math.max(
    ...[...slots.values()].map((s) => s.x + s.width),
    ...loops.map((l) => l.lane + 8),
  );
  return {
    slots,
    forward,
    loops,
    layers,
    width: right + MARGIN,
    height: TOP + layers.length * (NODE_H + V_GAP) - V_GAP + MARGIN + 8,
  };
}

// ---------------------------------------------------------------------------------------------
// Drawing

const INK = '#1f2328';
const MUTED = '#57606a';
const FONT = "system-ui, -apple-system, 'Segoe UI', 'PingFang SC', 'Microsoft YaHei', sans-serif";

export { escapeXml } from './escape';

const n = (value: number) => String(Math.round(value * 10) / 10);

/** The SVG of a definition's step graph; see the module comment. */
export function renderDiagram(spec: DefinitionSpec, options: DiagramOptions = {}): string {
  const labels: DiagramLabels = { ...ENGLISH_DIAGRAM_LABELS, ...options.labels };
  const prefix = (options.idPrefix ?? 'diagram').replace(/[^A-Za-z0-9_-]/g, '-');
  const graph = buildDiagramGraph(spec, labels);
  const plan = layout(graph);
  const arrow = `${prefix}-arrow`;
  const titleId = `${prefix}-title`;
  const title = options.title ?? spec.name;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="diagram" role="img" aria-labelledby="${titleId}" ` +
      `width="${n(plan.width)}" height="${n(plan.height)}" viewBox="0 0 ${n(plan.width)} ${n(plan.height)}" ` +
      `font-family="${escapeXml(FONT)}">`,
    `<title id="${titleId}">${escapeXml(title)}</title>`,
    `<defs><marker id="${arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">` +
      `<path d="M0,0 L10,5 L0,10 z" fill="${MUTED}"/></marker></defs>`,
  );

  // Where edges leave and enter: spread along the bottom and top edges of a box.
  const exits = new Map<string, Map<DiagramEdge, number>>();
  const entries = new Map<string, Map<DiagramEdge, number>>();
  const spread = (
    table: Map<string, Map<DiagramEdge, number>>,
    key: string,
    list: Array<{ edge: DiagramEdge; towards: number }>,
  ) => {
    const slot = plan.slots.get(key)!;
    const sorted = [...list].sort((a, b) => a.towards - b.towards);
    const inset = slot.node?.kind === 'join' ? slot.width / 4 : 0;
    const span = slot.width - 2 * inset;
    table.set(
      key,
      new Map(
        sorted.map(({ edge }, i) => [
          edge,
          slot.x + inset + (span * (i + 1)) / (sorted.length + 1),
        ]),
      ),
    );
  };
  const centreOf = (key: string) => {
    const slot = plan.slots.get(key)!;
    return slot.x + slot.width / 2;
  };
  const leaving = new Map<string, Array<{ edge: DiagramEdge; towards: number }>>();
  const arriving = new Map<string, Array<{ edge: DiagramEdge; towards: number }>>();
  for (const { edge, points } of plan.forward) {
    (leaving.get(edge.from) ?? leaving.set(edge.from, []).get(edge.from)!).push({
      edge,
      towards: centreOf(points[1]!),
    });
    (arriving.get(edge.to) ?? arriving.set(edge.to, []).get(edge.to)!).push({
      edge,
      towards: centreOf(points[points.length - 2]!),
    });
  }
  for (const [key, list] of leaving) spread(exits, key, list);
  for (const [key, list] of arriving) spread(entries, key, list);

  const edgeLabel = (edge: DiagramEdge, at: number, y: number): string => {
    if (edge.labels.length === 0) return '';
    const full = edge.labels.join(' / ');
    const text = fitText(full, 150, 11);
    const w = textWidth(text, 11) + 8;
    const x = Math.min(Math.max(at, w / 2 + 2), plan.width - w / 2 - 2);
    return (
      `<rect x="${n(x - w / 2)}" y="${n(y - 8)}" width="${n(w)}" height="15" rx="3" fill="#ffffff" fill-opacity="0.92"/>` +
      `<text x="${n(x)}" y="${n(y + 3.5)}" font-size="11" text-anchor="middle" fill="${MUTED}">${escapeXml(text)}</text>`
    );
  };
  const edgeTitle = (edge: DiagramEdge) => {
    const from = graph.nodes.find((node) => node.key === edge.from)!;
    const to = graph.nodes.find((node) => node.key === edge.to)!;
    const name = (node: DiagramNode) =>
      node.kind === 'join' ? labels.join(joinOf(node.step)) : node.step.name;
    const label = edge.labels.length > 0 ? ` (${edge.labels.join(' / ')})` : '';
    return `<title>${escapeXml(`${name(from)} → ${name(to)}${label}`)}</title>`;
  };

  // Forward edges: curves from the bottom of one row to the top of the next, straight through
  // the slots reserved for them on rows they cross.
  for (const { edge, points } of plan.forward) {
    const first = plan.slots.get(points[0]!)!;
    const last = plan.slots.get(points[points.length - 1]!)!;
    let x = exits.get(first.key)!.get(edge)!;
    let y = first.y + NODE_H;
    let d = `M${n(x)},${n(y)}`;
    let labelAt: [number, number] | null = null;
    for (let i = 1; i < points.length; i++) {
      const slot = plan.slots.get(points[i]!)!;
      const tx =
        i === points.length - 1 ? entries.get(last.key)!.get(edge)! : slot.x + slot.width / 2;
      const ty = slot.y;
      const mid = (y + ty) / 2;
      d += ` C${n(x)},${n(mid)} ${n(tx)},${n(mid)} ${n(tx)},${n(ty - (i === points.length - 1 ? 1 : 0))}`;
      labelAt ??= [x + (tx - x) * 0.3, y + (ty - y) * 0.38];
      x = tx;
      y = ty;
      if (i < points.length - 1) {
        y = ty + NODE_H;
        d += ` L${n(x)},${n(y)}`;
      }
    }
    parts.push(
      `<g class="edge" data-from="${escapeXml(edge.from)}" data-to="${escapeXml(edge.to)}">${edgeTitle(edge)}` +
        `<path d="${d}" fill="none" stroke="${MUTED}" stroke-width="1.5" marker-end="url(#${arrow})"/>` +
        (labelAt ? edgeLabel(edge, labelAt[0], labelAt[1]) : '') +
        `</g>`,
    );
  }

  // Loops: out of the bottom of the step, along the gap below its row to its lane, up to the gap
  // above the target's row and down into it; dashed, so they read as "back to".
  for (const { edge, side, lane, index } of plan.loops) {
    const from = plan.slots.get(edge.from)!;
    const to = plan.slots.get(edge.to)!;
    const offset = 6 + ((index - 1) % 4) * 5;
    const inset = 14 + ((index - 1) % 3) * 8;
    const sx = side === 'left' ? from.x + inset : from.x + from.width - inset;
    const sy = from.y + NODE_H;
    const below = sy + offset;
    const tx = side === 'left' ? to.x + inset : to.x + to.width - inset;
    const above = to.y - offset;
    const d =
      `M${n(sx)},${n(sy)} L${n(sx)},${n(below)} L${n(lane)},${n(below)} ` +
      `L${n(lane)},${n(above)} L${n(tx)},${n(above)} L${n(tx)},${n(to.y - 1)}`;
    parts.push(
      `<g class="edge edge-loop" data-from="${escapeXml(edge.from)}" data-to="${escapeXml(edge.to)}">${edgeTitle(edge)}` +
        `<path d="${d}" fill="none" stroke="${MUTED}" stroke-width="1.5" stroke-dasharray="5 4" marker-end="url(#${arrow})"/>` +
        edgeLabel(edge, (sx + lane) / 2, below) +
        `</g>`,
    );
  }

  for (const slot of plan.slots.values()) {
    if (slot.node) parts.push(drawNode(slot.node, slot, labels, arrow));
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function joinOf(step: StepSpec): 'all' | 'any' {
  return step.type === 'parallel' ? step.join : 'all';
}

function drawNode(node: DiagramNode, slot: Slot, labels: DiagramLabels, arrow: string): string {
  const { x, y, width: w } = slot;
  const h = NODE_H;
  const cx = x + w / 2;
  const key = escapeXml(node.key);
  if (node.kind === 'join') {
    const text = labels.join(joinOf(node.step));
    const shape = `<polygon points="${n(x + 18)},${n(y)} ${n(x + w - 18)},${n(y)} ${n(x + w)},${n(y + h / 2)} ${n(x + w - 18)},${n(y + h)} ${n(x + 18)},${n(y + h)} ${n(x)},${n(y + h / 2)}" fill="#eef1f4" stroke="${MUTED}" stroke-width="1.5"/>`;
    return (
      `<g class="node node-join" data-join="${escapeXml(node.step.id)}"><title>${escapeXml(text)}</title>${shape}` +
      `<text x="${n(cx)}" y="${n(y + h / 2 + 4)}" font-size="12" text-anchor="middle" fill="${INK}">${escapeXml(fitText(text, w - 30, 12))}</text></g>`
    );
  }
  const step = node.step;
  const type = labels.type(step.type);
  let shape: string;
  let nameColour = INK;
  let subColour = MUTED;
  switch (step.type) {
    case 'end':
      // A stadium with a heavy border (and dark fill): an end reads as one without colour.
      shape = `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" rx="${n(h / 2)}" fill="#1f2328" stroke="#1f2328" stroke-width="4"/>`;
      nameColour = '#ffffff';
      subColour = '#d0d7de';
      break;
    case 'decision':
      shape = `<polygon points="${n(x + 16)},${n(y)} ${n(x + w - 16)},${n(y)} ${n(x + w)},${n(y + h / 2)} ${n(x + w - 16)},${n(y + h)} ${n(x + 16)},${n(y + h)} ${n(x)},${n(y + h / 2)}" fill="#fff8c5" stroke="#7d4e00" stroke-width="1.5"/>`;
      break;
    case 'parallel':
      shape =
        `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" rx="4" fill="#eef1f4" stroke="${MUTED}" stroke-width="1.5"/>` +
        `<line x1="${n(x + 6)}" y1="${n(y + 4)}" x2="${n(x + 6)}" y2="${n(y + h - 4)}" stroke="${MUTED}" stroke-width="1.5"/>` +
        `<line x1="${n(x + w - 6)}" y1="${n(y + 4)}" x2="${n(x + w - 6)}" y2="${n(y + h - 4)}" stroke="${MUTED}" stroke-width="1.5"/>`;
      break;
    case 'task':
    case 'claim':
    case 'evaluation':
      shape = `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" rx="8" fill="#ffffff" stroke="#0550ae" stroke-width="1.5"/>`;
      break;
    default:
      shape = `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" rx="8" fill="#f6f8fa" stroke="${MUTED}" stroke-width="1.2"/>`;
  }
  const start = node.isStart
    ? `<g class="start"><circle cx="${n(cx)}" cy="${n(y - 36)}" r="9" fill="#ffffff" stroke="${INK}" stroke-width="2"/>` +
      `<text x="${n(cx + 16)}" y="${n(y - 32)}" font-size="11" fill="${MUTED}">${escapeXml(labels.start)}</text>` +
      `<path d="M${n(cx)},${n(y - 27)} L${n(cx)},${n(y - 2)}" stroke="${INK}" stroke-width="1.5" marker-end="url(#${arrow})"/></g>`
    : '';
  const sub = `${type} · ${step.id}`;
  return (
    `<g class="node node-${step.type}${node.isStart ? ' node-start' : ''}" data-step="${escapeXml(step.id)}" data-key="${key}">` +
    `<title>${escapeXml(`${step.name} (${type}, ${step.id})`)}</title>${start}${shape}` +
    `<text x="${n(cx)}" y="${n(y + 22)}" font-size="13" font-weight="600" text-anchor="middle" fill="${nameColour}">${escapeXml(fitText(step.name, w - 20, 13))}</text>` +
    `<text x="${n(cx)}" y="${n(y + 40)}" font-size="11" text-anchor="middle" fill="${subColour}">${escapeXml(fitText(sub, w - 20, 11))}</text>` +
    `</g>`
  );
}
