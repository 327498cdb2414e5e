import type { DiagramEdge, DiagramGraph, DiagramNode } from './diagram-graph';

/**
 * Where each box of a step diagram goes (console/diagram.ts draws them): layers by longest path
 * from the start, dummy slots for edges that skip layers, a few barycentre sweeps for the order
 * within a layer, and lanes beside the rows for the loops. Pure geometry, no SVG.
 */
export const NODE_W = 184;
export const NODE_H = 52;
export const JOIN_W = 176;
export const DUMMY_W = 18;
export const H_GAP = 30;
export const V_GAP = 64;
export const MARGIN = 24;
export const TOP = 56; // room for the start marker
export const LANE_GAP = 14;

export interface Slot {
  /** A node key, or a dummy point of a long edge. */
  key: string;
  node: DiagramNode | null;
  layer: number;
  order: number;
  width: number;
  x: number;
  y: number;
}

export interface Loop {
  edge: DiagramEdge;
  side: 'left' | 'right';
  /** The x of the vertical run. */
  lane: number;
  /** 1 for the innermost lane of its side. */
  index: number;
}

export interface Layout {
  slots: Map<string, Slot>;
  forward: Array<{ edge: DiagramEdge; points: string[] }>;
  loops: Loop[];
  width: number;
  height: number;
  layers: Slot[][];
}

export function layout(graph: DiagramGraph): Layout {
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
