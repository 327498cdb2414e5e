import type { DefinitionSpec, ParallelJoin, StepSpec } from '../lang/definition';
import type { DiagramEdge, DiagramLabels, DiagramNode } from './diagram-graph';
import { buildDiagramGraph, ENGLISH_DIAGRAM_LABELS } from './diagram-graph';
import type { Slot } from './diagram-layout';
import { layout, NODE_H } from './diagram-layout';
import { escapeXml } from './escape';
import { fitText, textWidth } from './text-width';

/**
 * A definition's steps drawn as an SVG diagram: a pure function of the spec (no I/O, no clock),
 * over its graph (diagram-graph.ts) and the positions diagram-layout.ts gives it.
 * Layered layout: each step sits on the layer of its longest path from the start step (loops
 * are cut where they return to a step already on the path), edges that skip layers pass through
 * reserved slots, and the order within a layer is improved by a few barycentre sweeps. Loops are
 * drawn dashed in a lane beside the rows they span. A parallel step fans out to its branches, which meet
 * again at a join before the step's own successor.
 *
 * Everything that comes from the definition (names, branch conditions) is escaped; the SVG uses
 * presentation attributes only (no `style=`), so it passes a `style-src 'self'` CSP.
 */

export interface DiagramOptions {
  /** Prefix of ids inside the SVG (the arrow marker, the title), unique on the page. */
  idPrefix?: string;
  /** The accessible name of the diagram. */
  title?: string;
  labels?: Partial<DiagramLabels>;
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

function joinOf(step: StepSpec): ParallelJoin {
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
    case 'assessment':
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
