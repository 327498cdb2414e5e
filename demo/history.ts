import type { Actor, TimelineEntry } from '../common/case';
import type { ImportedCase } from '../common/case-import';
import { validateCaseData } from '../lang/case-data';
import type { DefinitionSnapshot, FieldSpec, StepSpec } from '../lang/definition';
import { maskValue } from '../lang/mask';
import { allSteps } from '../lang/steps';
import type { UnitInput } from '../services/org-import';
import type { DemoCounty } from './county';
import type { Rng } from './random';
import { BEIJING_OFFSET_MS } from '../lang/beijing';

/**
 * The demo county's past months (for the dashboards, the rankings and the public board): closed
 * cases of every process residents and staff start, drawn from a seeded stream, brought in
 * through the case import (`POST /api/v1/cases/import`'s service), never written directly.
 * Each record's external id comes from the seed (`demo-<process>-<community>-<n>`), so a second
 * run finds the same cases and imports nothing; times are placed relative to the day it runs.
 */

/** Cases per process and community. */
export const HISTORY_CASES_PER_COMMUNITY = 3;
/** How far back the history reaches. */
export const HISTORY_DAYS = 150;
/**
 * Share of orders a co-building unit's liaison (共建单位联络员) claims, chosen: 0.3; the grid's
 * worker claims the rest. The liaison's is a unit paired with one of the community's compounds
 * (单位包联小区), so each co-building unit is measured and evaluated on orders it served.
 */
export const LIAISON_CLAIM_SHARE = 0.3;

const MINUTE = 60_000;

const DESCRIPTIONS = [
  '楼道堆放杂物影响通行，请协调清理',
  '小区路灯损坏，夜间出行不便',
  '雨后地下室积水，需要排水处理',
  '独居老人需要定期上门探访',
  '健身器材松动存在安全隐患',
  '垃圾分类投放点异味较大',
  '电动自行车楼道充电存在隐患',
  '单元门禁损坏无法正常关闭',
];

export interface HistoryPlan {
  records: ImportedCase[];
  /** Processes left out, with why (e.g. no task step to claim). */
  skipped: Array<{ key: string; reason: string }>;
}

interface Place {
  community: UnitInput;
  grid: UnitInput;
  /** Who holds a post in the community or its grid, by id, in the county's order. */
  people: string[];
  /** The grid's first worker (网格员): who serves the orders no liaison claims. */
  gridWorker: string;
  /** The liaisons of the co-building units paired with the community's compounds. */
  liaisons: Array<{ unitId: string; personId: string }>;
}

/** Who claims an order in the history: the demo account that acts, and who served (ids). */
interface Server {
  actor: Actor;
  servedBy: { unitIds: string[]; personIds: string[] };
}

/**
 * The history records for the processes given: pure, from the county, the stream and `now`.
 * Processes run on a schedule (rounds) and those only the engine starts (sub-processes) get none.
 */
export function planHistory(
  county: DemoCounty,
  definitions: readonly DefinitionSnapshot[],
  userIds: ReadonlyMap<string, string>,
  rng: Rng,
  now: Date,
): HistoryPlan {
  const records: ImportedCase[] = [];
  const skipped: HistoryPlan['skipped'] = [];
  const places = placesOf(county);
  const departments = county.units.filter((u) => u.type === 'department');
  const actorOf = (username: string): Actor => ({
    kind: 'user',
    id: userIds.get(username) ?? username,
  });
  // Children of another process (a department's 报到, a grid's monthly report, a compound's
  // roll-call) carry the measured work of their rounds: they get history of their own, started
  // by the engine, while the rounds around them (containers) get none.
  const parents = new Map<string, string>();
  for (const definition of definitions) {
    for (const { step } of allSteps(definition.spec)) {
      if (step.type === 'subprocess') parents.set(step.definition, definition.key);
    }
  }
  for (const definition of [...definitions].sort((a, b) => a.key.localeCompare(b.key))) {
    const spec = definition.spec;
    const parent = parents.get(definition.key);
    if (spec.schedule !== undefined) {
      skipped.push({ key: definition.key, reason: 'a periodic round' });
      continue;
    }
    if (parent === undefined && !spec.starters.some((r) => r !== 'system')) {
      skipped.push({ key: definition.key, reason: 'started only by the engine' });
      continue;
    }
    const work = allSteps(spec)
      .map(({ step }) => step)
      .find(
        (s): s is Extract<StepSpec, { type: 'task' | 'claim' }> =>
          s.type === 'task' || s.type === 'claim',
      );
    if (!work) {
      skipped.push({ key: definition.key, reason: 'no task to claim (nothing to measure)' });
      continue;
    }
    const stream = rng.fork(definition.key);
    const starter = spec.starters.includes('resident')
      ? 'demo-resident'
      : 'demo-community-dispatcher';
    for (const place of places) {
      for (let n = 1; n <= HISTORY_CASES_PER_COMMUNITY; n++) {
        const externalId = `demo-${definition.key}-${place.community.id}-${n}`;
        const record = historyCase(definition, work, place, departments, stream, now, {
          externalId,
          createdBy: parent !== undefined ? { kind: 'system', id: 'engine' } : actorOf(starter),
          gridWorker: actorOf('demo-grid-worker'),
          liaison: actorOf('demo-liaison'),
          dispatcher: actorOf('demo-community-dispatcher'),
        });
        if (record === null) {
          skipped.push({
            key: definition.key,
            reason: 'its input fields need data the demo cannot make',
          });
          break;
        }
        records.push(record);
      }
      if (skipped.some((s) => s.key === definition.key)) break;
    }
  }
  return { records, skipped };
}

function placesOf(county: DemoCounty): Place[] {
  const holders = (unitId: string, role: string) =>
    county.posts.filter((p) => p.unitId === unitId && p.role === role).map((p) => p.personId);
  return county.units
    .filter((u) => u.type === 'community')
    .map((community) => {
      const grid = county.units.find((u) => u.type === 'grid' && u.parentId === community.id);
      const gridWorker = grid ? holders(grid.id, 'grid-worker')[0] : undefined;
      if (!grid || gridWorker === undefined) return null;
      const here = new Set([community.id, grid.id]);
      const people = [
        ...new Set(county.posts.filter((p) => here.has(p.unitId)).map((p) => p.personId)),
      ];
      const grids = new Set(
        county.units.filter((u) => u.parentId === community.id).map((u) => u.id),
      );
      const compounds = new Set(
        county.units.filter((u) => u.parentId !== null && grids.has(u.parentId)).map((u) => u.id),
      );
      const partners = [
        ...new Set(
          county.pairings
            .filter((p) => p.kind === 'unit' && compounds.has(p.unitId))
            .map((p) => p.partnerUnitId!),
        ),
      ];
      const liaisons = partners.flatMap((unitId) =>
        holders(unitId, 'liaison')
          .slice(0, 1)
          .map((personId) => ({ unitId, personId })),
      );
      return { community, grid, people, gridWorker, liaisons };
    })
    .filter((p): p is Place => p !== null);
}

function historyCase(
  definition: DefinitionSnapshot,
  work: Extract<StepSpec, { type: 'task' | 'claim' }>,
  place: Place,
  departments: readonly UnitInput[],
  rng: Rng,
  now: Date,
  who: {
    externalId: string;
    createdBy: Actor;
    gridWorker: Actor;
    liaison: Actor;
    dispatcher: Actor;
  },
): ImportedCase | null {
  const spec = definition.spec;
  const received = workingMoment(now.getTime() - rng.int(3, HISTORY_DAYS) * 86_400_000, rng);
  const data = dataFor(spec.input.fields, place, departments, rng, received, who.externalId);
  if (data === null) return null;
  // The history has two staff accounts to act as: the claims are theirs on the timeline, and
  // who served (servedBy) is the place's own grid worker or a paired unit's liaison.
  const liaison =
    place.liaisons.length > 0 && rng.chance(LIAISON_CLAIM_SHARE) ? rng.pick(place.liaisons) : null;
  const server: Server = liaison
    ? {
        actor: who.liaison,
        servedBy: { unitIds: [liaison.unitId], personIds: [liaison.personId] },
      }
    : {
        actor: who.gridWorker,
        servedBy: { unitIds: [place.grid.id], personIds: [place.gridWorker] },
      };
  const category = spec.categories?.length ? rng.pick(spec.categories).code : null;
  const feedback = spec.steps.find((s) => s.type === 'feedback');
  const publish = spec.steps.find(
    (s): s is Extract<StepSpec, { type: 'publish' }> => s.type === 'publish',
  );
  const rejectEnd = spec.steps.find((s) => s.type === 'end' && s.status === 'rejected');
  const outcomes = work.type === 'task' ? work.outcomes : [];
  const refuse = outcomes.find((o) => /reject|refuse|decline|不予|退回/.test(`${o.id}${o.name}`));
  const rejected = rejectEnd !== undefined && refuse !== undefined && rng.chance(0.08);
  const done = rejected ? refuse : (outcomes.find((o) => o !== refuse) ?? outcomes[0]);

  const events: Array<Omit<TimelineEntry, 'seq'>> = [];
  const at = (ms: number) => new Date(ms).toISOString();
  const engine: Actor = { kind: 'system', id: 'engine' };
  const taskId = `${who.externalId}:${work.id}`;
  let t = received;
  events.push({
    type: 'case.started',
    at: at(t),
    actor: who.createdBy,
    detail: { definition: definition.key, version: definition.version, channel: 'import' },
  });
  events.push({
    type: 'task.opened',
    at: at(t),
    actor: engine,
    stepId: work.id,
    detail: { task: taskId, candidates: 2, fellBack: false },
  });
  const late = rng.chance(0.15) && work.deadlines.length > 0;
  if (late) {
    const deadline = work.deadlines[0]!;
    t += rng.int(8, 30) * 60 * MINUTE;
    events.push({
      type: 'deadline.missed',
      at: at(t),
      actor: engine,
      stepId: work.id,
      detail: { deadline: deadline.id, task: taskId },
    });
    if (deadline.escalations.length > 0) {
      events.push({
        type: 'deadline.escalated',
        at: at(t),
        actor: engine,
        stepId: work.id,
        detail: { deadline: deadline.id, task: taskId, level: 1, people: 1, fellBack: false },
      });
    }
    t += rng.int(10, 90) * MINUTE;
  } else {
    t += rng.int(5, 120) * MINUTE;
  }
  events.push({
    type: 'task.claimed',
    at: at(t),
    actor: server.actor,
    stepId: work.id,
    detail: { task: taskId },
  });
  t += rng.int(1, 48) * 60 * MINUTE;
  events.push({
    type: 'task.completed',
    at: at(t),
    actor: server.actor,
    stepId: work.id,
    detail: { task: taskId, ...(done ? { outcome: done.id } : {}) },
  });

  let publication: ImportedCase['publication'] = null;
  let rating: ImportedCase['rating'] = null;
  const status = rejected ? 'rejected' : 'closed';
  if (!rejected && publish) {
    t += rng.int(1, 30) * MINUTE;
    publication = {
      title: publish.title,
      outcome: done?.name ?? null,
      fields: publish.show.flatMap((name) => {
        const field = spec.input.fields.find((f) => f.name === name);
        const value = data[name];
        if (!field || value === undefined) return [];
        return [
          {
            label: field.label,
            value: field.personal ? maskValue(field.type, value) : shown(value),
          },
        ];
      }),
      publishedAt: at(t),
    };
    events.push({ type: 'case.published', at: at(t), actor: engine, stepId: publish.id });
  }
  if (!rejected && feedback) {
    t += rng.int(2, 48) * 60 * MINUTE;
    if (rng.chance(0.85)) {
      const score = rng.weighted([
        [5, 55],
        [4, 25],
        [3, 12],
        [2, 5],
        [1, 3],
      ] as const);
      rating = { score, comment: null, at: at(t) };
      events.push({
        type: 'feedback.rated',
        at: at(t),
        actor: who.createdBy,
        stepId: feedback.id,
        detail: { score },
      });
    } else {
      rating = { score: null, comment: null, at: at(t) };
      events.push({ type: 'feedback.missing', at: at(t), actor: engine, stepId: feedback.id });
    }
  }
  t += MINUTE;
  events.push({ type: 'case.closed', at: at(t), actor: engine, detail: { status } });
  return {
    externalId: who.externalId,
    definitionKey: definition.key,
    definitionVersion: definition.version,
    unitId: place.grid.id,
    category,
    data,
    createdBy: who.createdBy,
    status,
    receivedAt: at(received),
    closedAt: at(t),
    events,
    rating,
    publication,
    servedBy: server.servedBy,
  };
}

/** A moment on a weekday from 08:30 to 16:59 Beijing time, on or before `around`. */
function workingMoment(around: number, rng: Rng): number {
  const day = Math.floor((around + BEIJING_OFFSET_MS) / 86_400_000);
  let date = day;
  // 1970-01-01 was a Thursday: (day + 4) % 7 gives 0 for Sunday.
  while ((date + 4) % 7 === 0 || (date + 4) % 7 === 6) date--;
  // `int` includes its maximum: 509 minutes after 08:30 is 16:59, the last minute before 17:00.
  return date * 86_400_000 - BEIJING_OFFSET_MS + (8 * 60 + 30 + rng.int(0, 509)) * MINUTE;
}

/** Input values the process accepts, or null when a required field is beyond the demo. */
function dataFor(
  fields: readonly FieldSpec[],
  place: Place,
  departments: readonly UnitInput[],
  rng: Rng,
  received: number,
  externalId: string,
): Record<string, unknown> | null {
  const data: Record<string, unknown> = {};
  for (const field of fields) {
    const value = valueFor(field, place, departments, rng, received, externalId);
    if (value === undefined) {
      if (field.required) return null;
      continue;
    }
    data[field.name] = field.multiple ? [value] : value;
  }
  return validateCaseData(fields, data).ok ? data : null;
}

function valueFor(
  field: FieldSpec,
  place: Place,
  departments: readonly UnitInput[],
  rng: Rng,
  received: number,
  externalId: string,
): unknown {
  const fit = (text: string) =>
    text.slice(0, field.maxLength ?? (field.type === 'text' ? 5000 : 200));
  switch (field.type) {
    case 'string':
      if (field.options) return rng.pick(field.options);
      if (/name|联系人|姓名/i.test(`${field.name}${field.label}`)) return fit('演示居民');
      if (/location|address|place|地点|地址/i.test(`${field.name}${field.label}`)) {
        return fit(`${place.community.name}${place.grid.name}`);
      }
      return fit(`${field.label}（演示）`);
    case 'text':
      return fit(`${rng.pick(DESCRIPTIONS)}（演示数据）`);
    case 'email':
      return `${externalId.replace(/[^a-z0-9-]/gi, '').slice(-40)}@demo.invalid`;
    case 'phone':
      // Any 11-digit mobile number may be someone's: left out unless required (a volunteer's
      // registration), then a Beijing landline number no line has (local numbers never start
      // with 0), one per case.
      return field.required ? `010-0${demoDigits(externalId, 7)}` : undefined;
    case 'date':
      return new Date(received + 30 * 86_400_000 + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
    case 'datetime':
      return new Date(received + 86_400_000).toISOString();
    case 'unit':
      return departments.length > 0 ? rng.pick(departments).id : undefined;
    case 'person':
      // Someone holding a post where the case is: a person field names a person of the tree.
      return place.people.length > 0 ? rng.pick(place.people) : undefined;
    case 'photo':
      return undefined; // the demo county has no photos
    case 'boolean':
      return false;
    case 'integer':
    case 'number':
      return Math.max(field.min ?? 1, Math.min(field.max ?? 10, 1));
  }
}

/** A value as the board shows it (lists joined). */
function shown(value: unknown): string {
  if (Array.isArray(value)) return value.map(shown).join('、');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : '';
}

/** `count` decimal digits derived from `text` (FNV-1a): the same text, the same digits. */
function demoDigits(text: string, count: number): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return String(hash % 10 ** count).padStart(count, '0');
}
