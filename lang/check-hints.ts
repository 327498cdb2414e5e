import type { StepSpec } from './definition';
import {
  chainDownSelectorSchema,
  pairedWithSelectorSchema,
  requesterSelectorSchema,
} from './definition';
import { LOOKUP_SOURCE_INFO } from './lookup';

/**
 * Messages that say what to write instead: where a parallel branch's step belongs, what a
 * step leaves in `steps.<id>`, and the nearest known name for a misspelt one. The validator
 * (check.ts) reports with them.
 */

/**
 * What a parallel branch cannot hold, in words: the schema alone answers a bare "invalid
 * discriminator" for an end, a parallel or an evaluation step inside a branch.
 */
const NOT_IN_A_BRANCH: Readonly<Record<string, string>> = {
  end:
    'a parallel branch cannot hold an end step: a branch is done after its last step and the ' +
    'case goes on after the parallel step, so put the end step after it (join: any stops the ' +
    'other branches when one is done; a decision after the parallel step can end the case)',
  parallel:
    'parallel steps cannot be nested: put the inner branches side by side in the outer parallel step',
  evaluation: 'an evaluation round cannot run inside a parallel branch: make it a step of its own',
  assessment:
    'a department assessment cannot run inside a parallel branch: make it a step of its own',
  recurrence:
    'a recurrence analysis cannot run inside a parallel branch: make it a step of its own (schedule the process for each street)',
  lookup:
    'a lookup cannot run inside a parallel branch: make it a step of its own before the parallel step (its branches read its result)',
  repeat:
    'a repeat step cannot run inside a parallel branch: make it a step of its own (inside a branch, a loop back through a timer repeats)',
  grant:
    'a grant cannot run inside a parallel branch: make it a step of its own before or after the parallel step (the org data is written at the top level of the case only)',
};

/** Step types a repeated block (`repeat`'s steps) cannot hold, with where they belong instead. */
const NOT_IN_A_BLOCK: Readonly<Record<string, string>> = {
  end: 'a repeated block cannot hold an end step: an iteration is done after its last step and the case goes on after the repeat step, so put the end step after it (a decision after it can end the case)',
  parallel:
    'a repeated block cannot hold a parallel step: put the tasks one after the other in the block, or repeat inside each branch with a loop',
  repeat: 'repeat steps cannot be nested: multiply the times, or list every date in one repeat',
  evaluation:
    'an evaluation round cannot run inside a repeated block: schedule the process instead',
  recurrence:
    'a recurrence analysis cannot run inside a repeated block: schedule the process instead',
  assessment:
    'a department assessment cannot run inside a repeated block: schedule the process instead',
  lookup:
    'a lookup cannot run inside a repeated block: make it a step of its own before the repeat step (its iterations read its result)',
  grant:
    'a grant cannot run inside a repeated block: make it a step of its own before or after the repeat step (a post is granted once; granting it again changes nothing)',
};

/** The message for a step type a branch cannot hold at `path`, or null for any other issue. */
export function branchStepMessage(raw: unknown, path: ReadonlyArray<PropertyKey>): string | null {
  const at = path.at(-1) === 'type' ? path.slice(0, -1) : path;
  // A repeated block: `steps[i].steps[j]`.
  const inBlock = at.length === 4 && at[0] === 'steps' && at[2] === 'steps';
  if (!inBlock && (at.length < 4 || at.at(-2) !== 'steps' || at.at(-4) !== 'branches')) {
    return null;
  }
  const messages = inBlock ? NOT_IN_A_BLOCK : NOT_IN_A_BRANCH;
  let node: unknown = raw;
  for (const key of at) {
    if (node === null || typeof node !== 'object') return null;
    node = (node as Record<PropertyKey, unknown>)[key as string];
  }
  const type = (node as { type?: unknown } | null)?.type;
  return typeof type === 'string' && Object.hasOwn(messages, type) ? messages[type]! : null;
}

/**
 * What a finished step leaves in `steps.<id>` (docs/definition-language.md section 7, written by
 * workflows/steps/*.ts): `steps.<id>.<property>` must name one of them.
 */
const STEP_RESULT_PROPERTIES: Readonly<Partial<Record<StepSpec['type'], readonly string[]>>> = {
  task: ['outcome', 'form', 'comment', 'by', 'status', 'claimants'],
  claim: [
    'outcome',
    'form',
    'comment',
    'by',
    'status',
    'claimants',
    'claimantUnits',
    'expected',
    'acknowledged',
    'missing',
    'unstaffed',
    'unacknowledged',
  ],
  feedback: ['rating', 'visits'],
  repeat: ['index', 'item', 'count', 'iterations'],
  subprocess: [
    'caseId',
    'status',
    'cases',
    'count',
    'closed',
    'expected',
    'acknowledged',
    'missing',
    'unstaffed',
    'disputesFound',
    'disputesResolved',
    'disputeResolutionRate',
    'outcome',
    'data',
    'outcomes',
    'totals',
  ],
  evaluation: ['status', 'count', 'items', 'scored', 'missing', 'score'],
  assessment: ['outcome', 'form', 'comment', 'by', 'status', 'count', 'scored', 'vetoed'],
  grant: ['personId', 'unitId', 'post', 'created', 'account'],
};

/** Why `steps.<id>.<rest…>` cannot be read from that step, or null when it can. */
export function stepPathProblem(step: StepSpec, rest: readonly string[]): string | null {
  const [property, field] = rest;
  if (property === undefined) return null;
  // A lookup leaves what its source reads (lang/lookup.ts).
  const known =
    step.type === 'lookup'
      ? LOOKUP_SOURCE_INFO[step.source].properties
      : (STEP_RESULT_PROPERTIES[step.type] ?? []);
  if (known.length === 0) {
    return `steps.${step.id} is a ${step.type} step, which leaves nothing to read (only task, claim, feedback, subprocess, evaluation, assessment, repeat, lookup and grant steps do)`;
  }
  if (!known.includes(property)) {
    const near = nearestName(property, known);
    return (
      `steps.${step.id} (a ${step.type === 'lookup' ? `lookup of ${step.source}` : `${step.type} step`}) has no "${property}"` +
      (near !== null ? `: did you mean "${near}"?` : '') +
      ` (it has: ${known.join(', ')})`
    );
  }
  if (property === 'form' && field !== undefined && step.type === 'task') {
    const fields = (step.form?.fields ?? []).map((f) => f.name);
    if (!fields.includes(field)) {
      return fields.length === 0
        ? `steps.${step.id} has no form, so steps.${step.id}.form.${field} is always missing`
        : `steps.${step.id}'s form has no field "${field}" (it has: ${fields.join(', ')})`;
    }
  }
  return null;
}

/**
 * The known name closest to a misspelt one (at most a third of its letters edited), or null:
 * for "did you mean" in messages.
 */
export function nearestName(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Math.max(1, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, with adjacent swaps counted as one edit ("recieved" → "received"). */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The problems of a `pairedWith`, `chain` or `requester` selector at or in the list at `path`, each at its own
 * field, or null when there is none there: a union of selectors alone answers "Unrecognized key"
 * for the first kind of selector it tried, which names the wrong one.
 */
export function selectorProblems(
  raw: unknown,
  path: ReadonlyArray<PropertyKey>,
): Array<{ path: PropertyKey[]; message: string }> | null {
  let node: unknown = raw;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return null;
    node = (node as Record<PropertyKey, unknown>)[key as string];
  }
  const items: Array<[PropertyKey[], unknown]> = Array.isArray(node)
    ? node.map((item, i) => [[...path, i], item])
    : [[[...path], node]];
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const [at, item] of items) {
    if (item === null || typeof item !== 'object') continue;
    const schema =
      'pairedWith' in item
        ? pairedWithSelectorSchema
        : 'chain' in item
          ? chainDownSelectorSchema
          : 'requester' in item
            ? requesterSelectorSchema
            : null;
    const parsed = schema?.safeParse(item);
    if (!parsed || parsed.success) continue;
    for (const issue of parsed.error.issues) {
      problems.push({ path: [...at, ...issue.path], message: issue.message });
    }
  }
  return problems.length > 0 ? problems : null;
}
