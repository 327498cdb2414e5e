import { createHash, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { ActingPrincipal } from '../common/case';
import type {
  AssessmentKind,
  AssessmentRecord,
  CriterionSpec,
  RoundGroup,
  RoundResults,
  ScoreEntry,
  ScoreResult,
} from '../common/evaluation';
import {
  assessmentTable,
  EVALUATION_SCORE_UPDATE,
  resultsCsv,
  toCsv,
  SCORE_WRITE_BUDGET_MS,
  scoreProblems,
} from '../common/evaluation';
import type { Models } from '../models';
import type { Principal } from './auth';
import { AppError } from './errors';
import type { ScopeResolver } from './scope';
import type { PageRequest } from './paging';
import { skipOf, totalOf } from './paging';
import { asAppError, withCallDeadline } from './temporal-errors';
import { scoringEntitlements } from './evaluation-entitlements';
import { BEIJING_OFFSET_MS } from '../lang/beijing';
import { unitsAtOrBelow } from '../common/org-tree';

/**
 * Evaluation rounds (评单评议) as the API serves them: a round and the orders the caller may
 * score, scores, and the frozen results as JSON or CSV. Rounds and items are written by the
 * round's activities. Scores are checked here against who may score which order; a round opened
 * since scores left the workflow history (`scoresVia: 'api'`) has them written here, one
 * document per scorer and order (see recordScores and docs/definition-language.md 6.12); an
 * older round gets them as an Update to its workflow, whose validator answers whether the round
 * is still open.
 *
 * Who may score an order is the rule of evaluation-entitlements.ts. Who sees a round's results:
 * admins, and dispatchers and staff whose scope holds the round's unit.
 */

export interface ScoreSubmission {
  /** The scorer group; needed only when the caller may score an order in several. */
  group?: string;
  scores: Array<{ item: string; values: Record<string, number>; comment?: string }>;
}

/** A 评单会 as its host submits it: the meeting record and the collective scores. */
export interface MeetingSubmission {
  /** The meeting group; needed only when the round has several. */
  group?: string;
  /** The unit whose meeting it is (the host's community). */
  unitId: string;
  /** The day it was held, YYYY-MM-DD (Beijing). */
  heldOn: string;
  representatives: number;
  residents: number;
  minutes: string;
  scores: Array<{ item: string; values: Record<string, number>; comment?: string }>;
}

export interface MeetingResult {
  roundId: string;
  group: string;
  unitId: string;
  recorded: number;
  /** Scores of an earlier submission for orders this one leaves out, removed. */
  removed: number;
}

export interface RoundItemView {
  id: string;
  unitId: string | null;
  definitionKey: string;
  definitionName: string;
  category: string | null;
  closedAt: string;
  /** The groups the caller may score this order in. */
  groups: string[];
  /** The caller's own score of this order, if any. */
  myScore: { group: string; values: Record<string, number>; at: string } | null;
}

/** What every view of a round says about it: its unit, status, period and times. */
export interface RoundFacts {
  id: string;
  unitId: string | null;
  status: 'open' | 'closed';
  period: { from: string; to: string };
  openedAt: string;
  closesAt: string;
  closedAt: string | null;
}

export interface RoundView extends RoundFacts {
  criteria: CriterionSpec[];
  groups: Array<{
    id: string;
    name: string;
    weight: number;
    requester: boolean;
    /** A `served` group: the requester scores only orders a resident's account filed. */
    residentsOnly: boolean;
    scorers: number;
    /** A 评单会 group: where meetings are held and who hosts them; null for the others. */
    meeting: { unitsOfType: string; host: string } | null;
  }>;
  orderRatingGroup: string | null;
  itemCount: number;
  items: RoundItemView[];
}

export type ResultsView = Omit<RoundResults, 'servedUnits' | 'servedPeople' | 'meetings'> & {
  servedUnits: NonNullable<RoundResults['servedUnits']>;
  servedPeople: NonNullable<RoundResults['servedPeople']>;
  meetings: NonNullable<RoundResults['meetings']>;
  roundId: string;
  unitId: string | null;
  period: { from: string; to: string };
  closedAt: string;
};

/** A round in a list: what it covers and where it stands, without its orders. */
export interface RoundSummary extends RoundFacts {
  /** The name of the round's process (its case's). */
  name: string;
  definitionKey: string;
  itemCount: number;
  /** Whether the caller supervises the round (sees every order, the progress and the results). */
  supervisor: boolean;
}

/** How far the scoring of a round has come, for its supervisors. */
export interface RoundProgress {
  roundId: string;
  items: number;
  /** Orders with at least one score (an order's own rating counts in its group). */
  scoredItems: number;
  groups: Array<{
    id: string;
    name: string;
    requester: boolean;
    /** Scores given in the group (with the orders' own ratings in the rating group). */
    scores: number;
    /** Orders the group has scored. */
    scoredItems: number;
    /**
     * A selector group's scorers and how many orders each scored (0: not yet); empty for a
     * requester group, whose scorers (the residents served) are not named.
     */
    scorers: Array<{ personId: string; name: string; hasAccount: boolean; scores: number }>;
  }>;
  /** For each order asked about: the scores each group gave it. */
  byItem: Record<string, Record<string, number>>;
}

export function createEvaluationService(deps: {
  models: Models;
  temporal: Client;
  /** Deadline of each Update or start, in ms (TEMPORAL_CALL_TIMEOUT_MS); past it, a 503. */
  callTimeoutMs: number;
  scope: ScopeResolver;
  /** The score write budget in ms; SCORE_WRITE_BUDGET_MS (chosen, 10 s) unless a test sets it. */
  scoreWriteBudgetMs?: number;
}) {
  const { EvaluationRound, EvaluationItem, EvaluationScore, EvaluationMeeting } = deps.models;
  const writeBudgetMs = deps.scoreWriteBudgetMs ?? SCORE_WRITE_BUDGET_MS;

  async function loadRound(roundId: string) {
    const round = await EvaluationRound.findById(roundId, { results: 0 }).lean();
    if (!round) throw notFound(roundId);
    return round;
  }

  /** Admins, and dispatchers/staff whose scope holds the round's unit. */
  async function supervises(principal: Principal, unitId: string | null): Promise<boolean> {
    const scope = await deps.scope.resolve(principal);
    return scope.all || (unitId !== null && scope.unitIds.has(unitId));
  }

  /**
   * Writes the caller's scores of a round whose scores the API writes (`scoresVia: 'api'`): each
   * score is its own document, `<round>:<order>:<digest of the scorer>`, written by one
   * single-document replace (upsert), so two scorers never write the same document (FerretDB v1
   * does not make concurrent updates of one document atomic) and the same submission again
   * replaces the score with itself (idempotent, whatever its Idempotency-Key; a correction
   * replaces the earlier score).
   *
   * The close without a transaction (docs/definition-language.md 6.12): scores are refused (409)
   * once `now >= closesAt` or the round is `closingAt`, checked here before writing; the writes
   * must end within SCORE_WRITE_BUDGET_MS (chosen, 10 s) of that check, counted at the latest
   * from `closesAt` (so: by `closesAt + budget`), or this request undoes them (each score back to
   * what it replaced) and answers 503 with Retry-After: it may have raced the closing activity,
   * which reads the scores SCORE_CLOSE_GRACE_MS (chosen, 60 s) after `closesAt`. Assumes API and
   * Temporal clocks within SCORE_CLOCK_SKEW_MS (50 s).
   */
  async function recordScores(
    principal: Principal,
    round: { _id: string; criteria: unknown; closesAt: Date; closingAt?: Date | null },
    group: string,
    entries: ScoreEntry[],
  ): Promise<ScoreResult> {
    const problems = scoreProblems(entries, round.criteria as CriterionSpec[], 'body.scores');
    if (problems.length > 0) {
      throw new AppError('unprocessable', 'The scores are not valid', problems);
    }
    const checkedAt = Date.now();
    if (round.closingAt || checkedAt >= round.closesAt.getTime()) {
      throw new AppError('conflict', `Round ${round._id} has closed; its results are frozen`);
    }
    const key = scorerKey(principal);
    const writeId = randomUUID();
    const at = new Date(checkedAt);
    const written: Array<{ id: string; before: object | null }> = [];
    for (const entry of entries) {
      const id = `${round._id}:${entry.itemId}:${key}`;
      // What this write replaces (an `_id` read), to put back if the request must undo it.
      const before = await EvaluationScore.findById(id).lean();
      const score = {
        roundId: round._id,
        itemId: entry.itemId,
        group,
        scorer: { kind: principal.kind, id: principal.id },
        values: entry.values,
        comment: entry.comment?.trim() || null,
        at,
        writeId,
      };
      await replaceScore(id, score);
      written.push({ id, before });
    }
    // Late: ended past the budget counted from the check, at the latest from `closesAt` (a write
    // ending before `closesAt + budget` is stored before the close reads, however long it took;
    // undoing slow writes while the round is far from closing made a loaded store thrash:
    // bench:round, 3,000 orders).
    if (Date.now() > round.closesAt.getTime() + writeBudgetMs) {
      // Too slow to be sure the close has not read the scores yet: undo, only where this
      // request's version is still the stored one (a later request's write stays).
      for (const { id, before } of written) {
        if (before) await EvaluationScore.replaceOne({ _id: id, writeId }, before);
        else await EvaluationScore.deleteOne({ _id: id, writeId });
      }
      throw new AppError(
        'unavailable',
        `Round ${round._id}: the scores were stored more than ${writeBudgetMs / 1000} s past the closing instant and were undone; they do not count`,
        [],
        { retryAfterSeconds: 5 },
      );
    }
    return { roundId: round._id, group, recorded: entries.length };
  }

  /**
   * One score document replaced or inserted. Two upserts of the same new `_id` at once (the same
   * scorer's request sent twice) may both try to insert: the loser gets a duplicate-key error and
   * replaces once more, which then finds the document.
   */
  async function replaceScore(id: string, score: Record<string, unknown>): Promise<void> {
    try {
      await EvaluationScore.replaceOne({ _id: id }, score, { upsert: true });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      await EvaluationScore.replaceOne({ _id: id }, score, { upsert: true });
    }
  }

  /**
   * Writes a 评单会: its record and one score per order (`<round>:<order>:<digest of group and
   * unit>`, so the meeting's score of an order is one document whoever of its hosts sends it),
   * and removes the scores of an earlier submission for orders this one leaves out. The close
   * rule is recordScores': refused once closed or closing, undone (and 503) when the writes end
   * past `closesAt` + the write budget.
   */
  async function recordMeetingWrites(
    principal: Principal,
    round: { _id: string; closesAt: Date; closingAt?: Date | null },
    group: string,
    hostPersonId: string,
    submission: MeetingSubmission,
  ): Promise<MeetingResult> {
    const checkedAt = Date.now();
    if (round.closingAt || checkedAt >= round.closesAt.getTime()) {
      throw new AppError('conflict', `Round ${round._id} has closed; its results are frozen`);
    }
    const writeId = randomUUID();
    const at = new Date(checkedAt);
    const key = createHash('sha256')
      .update(`meeting:${group}:${submission.unitId}`)
      .digest('hex')
      .slice(0, 32);
    const scoreId = (item: string) => `${round._id}:${item}:${key}`;
    const earlier = await EvaluationScore.find(
      { roundId: round._id, group, meetingUnitId: submission.unitId },
      { _id: 1 },
    ).lean();
    const keep = new Set(submission.scores.map((s) => scoreId(s.item)));
    const scores = EvaluationScore.collection;
    const meetings = EvaluationMeeting.collection;
    type Undo = { store: typeof scores; id: string; before: object | null; wrote: boolean };
    const undo: Undo[] = [];
    const put = async (store: typeof scores, id: string, doc: object) => {
      const before = await store.findOne({ _id: id as never });
      await store.replaceOne({ _id: id as never }, { ...doc, writeId }, { upsert: true });
      undo.push({ store, id, before, wrote: true });
    };
    try {
      await put(meetings, `${round._id}:${group}:${submission.unitId}`, {
        roundId: round._id,
        group,
        unitId: submission.unitId,
        host: { kind: principal.kind, id: principal.id },
        hostPersonId,
        heldOn: submission.heldOn,
        representatives: submission.representatives,
        residents: submission.residents,
        minutes: submission.minutes.trim(),
        orders: submission.scores.length,
        at,
      });
      for (const s of submission.scores) {
        await put(scores, scoreId(s.item), {
          roundId: round._id,
          itemId: s.item,
          group,
          scorer: { kind: principal.kind, id: principal.id },
          values: s.values,
          comment: s.comment?.trim() || null,
          at,
          meetingUnitId: submission.unitId,
        });
      }
      for (const { _id } of earlier) {
        if (keep.has(_id)) continue;
        const before = await scores.findOne({ _id: _id as never });
        await scores.deleteOne({ _id: _id as never });
        undo.push({ store: scores, id: _id, before, wrote: false });
      }
    } catch (err) {
      if ((err as { code?: number }).code === 11000) {
        throw new AppError(
          'conflict',
          'The meeting is being recorded by another request; send it again',
        );
      }
      throw err;
    }
    if (Date.now() > round.closesAt.getTime() + writeBudgetMs) {
      for (const { store, id, before, wrote } of undo.reverse()) {
        if (!wrote) {
          if (before) await store.replaceOne({ _id: id as never }, before, { upsert: true });
        } else if (before) {
          await store.replaceOne({ _id: id as never, writeId }, before);
        } else {
          await store.deleteOne({ _id: id as never, writeId });
        }
      }
      throw new AppError(
        'unavailable',
        `Round ${round._id}: the meeting was stored more than ${writeBudgetMs / 1000} s past the closing instant and was undone; it does not count`,
        [],
        { retryAfterSeconds: 5 },
      );
    }
    const removed = undo.filter((u) => !u.wrote).length;
    return {
      roundId: round._id,
      group,
      unitId: submission.unitId,
      recorded: submission.scores.length,
      removed,
    };
  }

  function actor(principal: Principal): ActingPrincipal {
    return { kind: principal.kind, id: principal.id, roles: principal.roles, via: 'api' };
  }

  return {
    /** A round and the orders the caller may score (all of them for its supervisors). */
    async getRound(principal: Principal, roundId: string): Promise<RoundView> {
      const round = await loadRound(roundId);
      const groups = round.groups as RoundGroup[];
      const items = await EvaluationItem.find({ roundId }).sort({ closedAt: 1, _id: 1 }).lean();
      const supervisor = await supervises(principal, round.unitId ?? null);
      const entitled = await scoringEntitlements(deps.scope, principal, groups, items);
      const visible = items.filter((i) => supervisor || (entitled.get(i.caseId) ?? []).length > 0);
      if (!supervisor && visible.length === 0) throw notFound(roundId);
      const scorer = `${principal.kind}:${principal.id}`;
      const scores = await EvaluationScore.find(
        { roundId, 'scorer.id': principal.id },
        { itemId: 1, group: 1, values: 1, at: 1, scorer: 1 },
      ).lean();
      const myScores = new Map(
        scores
          .filter((s) => `${s.scorer.kind}:${s.scorer.id}` === scorer)
          .map((s) => [s.itemId, s]),
      );
      return {
        ...roundFacts(round),
        criteria: round.criteria as CriterionSpec[],
        groups: groups.map((g) => ({
          id: g.id,
          name: g.name,
          weight: g.weight,
          requester: g.requester,
          residentsOnly: g.residentsOnly === true,
          scorers: g.scorers.length,
          meeting: g.meeting ?? null,
        })),
        orderRatingGroup: round.orderRatingGroup ?? null,
        itemCount: round.itemCount,
        items: visible.map((i) => {
          const score = myScores.get(i.caseId);
          return {
            id: i.caseId,
            unitId: i.unitId ?? null,
            definitionKey: i.definitionKey,
            definitionName: i.definitionName,
            category: i.category ?? null,
            closedAt: i.closedAt.toISOString(),
            groups: entitled.get(i.caseId) ?? [],
            myScore: score
              ? {
                  group: score.group,
                  values: score.values as Record<string, number>,
                  at: score.at.toISOString(),
                }
              : null,
          };
        }),
      };
    },

    /**
     * Records the caller's scores (one group per request). 404: no such round for the caller;
     * 422: an order not in the round, or the group unclear; 403: not entitled to score an order
     * in that group; 409: the round has closed (its workflow says so for rounds taking Updates;
     * recordScores for the others); 503: the write took too long and was undone.
     */
    async submitScores(
      principal: Principal,
      roundId: string,
      submission: ScoreSubmission,
      idempotencyKey: string | undefined,
    ): Promise<ScoreResult> {
      const round = await loadRound(roundId);
      const groups = round.groups as RoundGroup[];
      const ids = submission.scores.map((s) => s.item);
      const items = await EvaluationItem.find(
        { _id: { $in: ids.map((id) => `${roundId}:${id}`) } },
        { caseId: 1, unitId: 1, requesterId: 1, requesterResident: 1 },
      ).lean();
      const entitled = await scoringEntitlements(deps.scope, principal, groups, items);
      const supervisor = await supervises(principal, round.unitId ?? null);
      // A stranger to the round (neither a supervisor nor a scorer) learns nothing about it.
      const perOrder = groups.filter((g) => g.requester);
      const participates =
        supervisor ||
        groups.some((g) => g.scorers.some((p) => p.userId !== null && p.userId === principal.id)) ||
        (perOrder.length > 0 &&
          principal.kind === 'user' &&
          (await EvaluationItem.exists({
            roundId,
            requesterId: principal.id,
            // Only `served` groups: the orders a resident's account filed.
            ...(perOrder.every((g) => g.residentsOnly === true) ? { requesterResident: true } : {}),
          })) !== null);
      if (!participates) throw notFound(roundId);
      if (round.status !== 'open') {
        throw new AppError('conflict', `Round ${roundId} has closed; its results are frozen`);
      }
      const problems = submission.scores.flatMap((s, i) =>
        entitled.has(s.item)
          ? []
          : [{ path: `body.scores[${i}].item`, message: `order "${s.item}" is not in this round` }],
      );
      if (problems.length > 0) {
        throw new AppError('unprocessable', 'Some orders are not in this round', problems);
      }
      const seen = new Set<string>();
      submission.scores.forEach((s, i) => {
        if (seen.has(s.item)) {
          problems.push({ path: `body.scores[${i}].item`, message: 'scored twice in one request' });
        }
        seen.add(s.item);
      });
      if (problems.length > 0) {
        throw new AppError('unprocessable', 'An order is scored twice', problems);
      }
      // A 评单会 group's scores come with its meeting (recordMeeting), never one by one.
      const meetingGroups = new Set(groups.filter((g) => g.meeting).map((g) => g.id));
      const forbidden = submission.scores.flatMap((s, i) => {
        const may = entitled.get(s.item)!;
        const ok =
          submission.group !== undefined
            ? may.includes(submission.group)
            : may.some((g) => !meetingGroups.has(g));
        return ok
          ? []
          : [
              {
                path: `body.scores[${i}].item`,
                message:
                  submission.group !== undefined
                    ? `you may not score order "${s.item}" as ${submission.group}`
                    : `you may not score order "${s.item}"`,
              },
            ];
      });
      if (forbidden.length > 0) {
        throw new AppError('forbidden', 'You may not score some of these orders', forbidden);
      }
      if (submission.group !== undefined && meetingGroups.has(submission.group)) {
        throw new AppError(
          'unprocessable',
          `Group "${submission.group}" scores through its 评单会: its host records the meeting's collective scores (POST /api/v1/evaluations/${roundId}/meetings)`,
          [{ path: 'body.group', message: 'a meeting group: record the meeting instead' }],
        );
      }
      let group = submission.group;
      if (group === undefined) {
        const candidates = new Set(
          submission.scores.flatMap((s) =>
            entitled.get(s.item)!.filter((g) => !meetingGroups.has(g)),
          ),
        );
        const common = [...candidates].filter((g) =>
          submission.scores.every((s) => entitled.get(s.item)!.includes(g)),
        );
        if (common.length !== 1) {
          throw new AppError(
            'unprocessable',
            common.length === 0
              ? 'These orders are scored in different groups: send one group per request'
              : `You score these orders in several groups: name one (${common.join(', ')})`,
            [{ path: 'body.group', message: `one of ${[...candidates].join(', ')}` }],
          );
        }
        group = common[0]!;
      }
      const entries: ScoreEntry[] = submission.scores.map((s) => ({
        itemId: s.item,
        values: s.values,
        ...(s.comment !== undefined ? { comment: s.comment } : {}),
      }));
      if (round.scoresVia === 'api') {
        return recordScores(principal, round, group, entries);
      }
      const updateId =
        idempotencyKey === undefined
          ? randomUUID()
          : createHash('sha256')
              .update(`${principal.kind}:${principal.id}\n${roundId}\nscores\n${idempotencyKey}`)
              .digest('hex')
              .slice(0, 32);
      try {
        return await withCallDeadline(deps.temporal, deps.callTimeoutMs, () =>
          deps.temporal.workflow
            .getHandle(roundId)
            .executeUpdate<ScoreResult, [object]>(EVALUATION_SCORE_UPDATE, {
              args: [{ actor: actor(principal), group, entries }],
              updateId,
            }),
        );
      } catch (err) {
        // The validator's 409 (closed) and 422 (`scores[0].values.quality` → `body.scores…`).
        throw asAppError(err, 'evaluation round');
      }
    },

    /**
     * Records a 评单会 (a meeting group's scores): its host, for the meeting unit they host, sends
     * the meeting record and the collective score of orders at or below that unit. One record per
     * round, group and unit: a later submission replaces the record and its scores (scores of
     * orders it leaves out are removed). 404: no such round for the caller; 403: not the host of
     * that unit; 409: the round has closed; 422: no meeting group, an order not in the round or
     * not of that unit, a date outside the round, scores not valid; 503: written too late, undone.
     */
    async recordMeeting(
      principal: Principal,
      roundId: string,
      submission: MeetingSubmission,
    ): Promise<MeetingResult> {
      const round = await loadRound(roundId);
      const groups = round.groups as RoundGroup[];
      const meetingGroups = groups.filter((g) => g.meeting);
      const hosting = meetingGroups.filter((g) =>
        g.scorers.some((h) => h.userId !== null && h.userId === principal.id),
      );
      const supervisor = await supervises(principal, round.unitId ?? null);
      const participates =
        supervisor ||
        hosting.length > 0 ||
        groups.some((g) => g.scorers.some((p) => p.userId !== null && p.userId === principal.id));
      if (!participates) throw notFound(roundId);
      if (meetingGroups.length === 0) {
        throw new AppError('unprocessable', `Round ${roundId} has no 评单会 group`, [
          { path: 'body.group', message: 'this round records no meetings' },
        ]);
      }
      let group: RoundGroup | undefined;
      if (submission.group !== undefined) {
        group = meetingGroups.find((g) => g.id === submission.group);
        if (!group) {
          throw new AppError('unprocessable', `"${submission.group}" is not a meeting group`, [
            { path: 'body.group', message: `one of ${meetingGroups.map((g) => g.id).join(', ')}` },
          ]);
        }
      } else if (meetingGroups.length === 1) {
        group = meetingGroups[0]!;
      } else {
        throw new AppError('unprocessable', 'The round has several meeting groups: name one', [
          { path: 'body.group', message: `one of ${meetingGroups.map((g) => g.id).join(', ')}` },
        ]);
      }
      const host = group.scorers.find(
        (h) => h.userId !== null && h.userId === principal.id && h.unitId === submission.unitId,
      );
      if (!host) {
        throw new AppError(
          'forbidden',
          `Only the host of ${submission.unitId}'s 评单会 (its ${group.meeting!.host}) records it`,
          [{ path: 'body.unitId', message: 'a unit whose meeting you host' }],
        );
      }
      if (round.status !== 'open') {
        throw new AppError('conflict', `Round ${roundId} has closed; its results are frozen`);
      }
      // The day it was held: from the round's opening day to today (Beijing).
      const dayOf = (ms: number) => new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
      const opened = dayOf(round.openedAt.getTime());
      const today = dayOf(Date.now());
      if (submission.heldOn < opened || submission.heldOn > today) {
        throw new AppError('unprocessable', 'The meeting must be held while the round is open', [
          { path: 'body.heldOn', message: `a day from ${opened} to ${today}` },
        ]);
      }
      // The orders: in the round and at or below the meeting's unit, each once.
      const { children } = await deps.scope.units();
      const here = unitsAtOrBelow(children, [submission.unitId]);
      const ids = submission.scores.map((s) => s.item);
      const items = await EvaluationItem.find(
        { _id: { $in: ids.map((id) => `${roundId}:${id}`) } },
        { caseId: 1, unitId: 1 },
      ).lean();
      const unitOf = new Map(items.map((i) => [i.caseId, i.unitId ?? null]));
      const problems: Array<{ path: string; message: string }> = [];
      const seen = new Set<string>();
      submission.scores.forEach((s, i) => {
        const path = `body.scores[${i}].item`;
        if (!unitOf.has(s.item))
          problems.push({ path, message: `order "${s.item}" is not in this round` });
        else if (!here.has(unitOf.get(s.item) ?? '')) {
          problems.push({ path, message: `order "${s.item}" is not of ${submission.unitId}` });
        } else if (seen.has(s.item))
          problems.push({ path, message: 'scored twice in one request' });
        seen.add(s.item);
      });
      problems.push(
        ...scoreProblems(
          submission.scores.map((s) => ({ values: s.values })),
          round.criteria as CriterionSpec[],
          'body.scores',
        ),
      );
      if (problems.length > 0) {
        throw new AppError('unprocessable', "The meeting's scores are not valid", problems);
      }
      return recordMeetingWrites(principal, round, group.id, host.personId, submission);
    },

    /** The frozen results; 409 while the round is open. */
    async results(principal: Principal, roundId: string): Promise<ResultsView> {
      const round = await EvaluationRound.findById(roundId).lean();
      if (!round || !(await supervises(principal, round.unitId ?? null))) {
        throw notFound(roundId);
      }
      if (round.status !== 'closed' || !round.results) {
        throw new AppError(
          'conflict',
          `Round ${roundId} is open until ${round.closesAt.toISOString()}; its results are frozen when it closes`,
        );
      }
      const results = round.results as RoundResults;
      return {
        roundId,
        unitId: round.unitId ?? null,
        period: { from: round.from.toISOString(), to: round.to.toISOString() },
        closedAt: round.closedAt!.toISOString(),
        ...results,
        // Results frozen before the attribution to who served: none recorded.
        servedUnits: results.servedUnits ?? [],
        servedPeople: results.servedPeople ?? [],
        meetings: results.meetings ?? [],
        items: results.items.map((i) => ({
          ...i,
          servedUnitIds: i.servedUnitIds ?? [],
          servedPersonIds: i.servedPersonIds ?? [],
        })),
      };
    },

    resultsCsv(results: RoundResults): string {
      return resultsCsv(results);
    },

    /**
     * The annual assessment records (年度考核记录) the caller supervises (admins: all; dispatchers
     * and staff: those of rounds whose unit their scope holds), by year, kind and subject, newest
     * year first, a page at a time (the CSV export asks for one page of ASSESSMENT_CSV_MAX).
     */
    async assessments(
      principal: Principal,
      query: PageRequest & { year?: number; kind?: AssessmentKind; subjectId?: string },
    ): Promise<{ items: AssessmentRecord[]; page: number; pageSize: number; total: number }> {
      const scope = await deps.scope.resolve(principal);
      const filter: Record<string, unknown> = {};
      if (query.year !== undefined) filter.year = query.year;
      if (query.kind !== undefined) filter.kind = query.kind;
      if (query.subjectId !== undefined) filter.subjectId = query.subjectId;
      if (!scope.all) filter.roundUnitId = { $in: [...scope.unitIds].sort() };
      const docs = await deps.models.AssessmentRecord.find(filter)
        .sort({ year: -1, kind: 1, subjectId: 1, closedAt: 1, _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean();
      const total = await totalOf(query, docs.length, () =>
        deps.models.AssessmentRecord.countDocuments(filter),
      );
      return {
        items: docs.map((d) => ({
          id: d._id,
          roundId: d.roundId,
          roundUnitId: d.roundUnitId ?? null,
          year: d.year,
          kind: d.kind,
          subjectId: d.subjectId,
          name: d.name,
          unitNames: d.unitNames,
          period: d.period as { from: string; to: string },
          items: d.items,
          scored: d.scored,
          missing: d.missing,
          score: d.score ?? null,
          closedAt: d.closedAt.toISOString(),
          // 条块考核 records only (kind `department`).
          ...(d.kind === 'department'
            ? {
                weight: d.weight ?? undefined,
                weightedScore: d.weightedScore ?? null,
                rates: (d.rates ?? {}) as Record<string, number | null>,
                veto: (d.veto ?? null) as AssessmentRecord['veto'],
              }
            : {}),
        })),
        page: query.page,
        pageSize: query.pageSize,
        total,
      };
    },

    assessmentsCsv(records: readonly AssessmentRecord[]): string {
      return toCsv(assessmentTable(records));
    },

    /**
     * The rounds the caller sees, newest first: those it supervises (admins; dispatchers and
     * staff whose scope holds the round's unit), those it is a scorer of, and, for a resident,
     * the rounds of a requester group with one of its own orders.
     */
    async listRounds(
      principal: Principal,
      query: PageRequest & { status?: 'open' | 'closed' },
    ): Promise<{ items: RoundSummary[]; page: number; pageSize: number; total: number }> {
      const scope = await deps.scope.resolve(principal);
      const filter: Record<string, unknown> = {};
      if (query.status !== undefined) filter.status = query.status;
      if (!scope.all) {
        const branches: Array<Record<string, unknown>> = [];
        if (scope.unitIds.size > 0) branches.push({ unitId: { $in: [...scope.unitIds].sort() } });
        if (principal.kind === 'user') {
          branches.push({ 'groups.scorers.userId': principal.id });
          const own = await EvaluationItem.distinct('roundId', {
            requesterId: principal.id,
          });
          const asResident = new Set(
            own.length === 0
              ? []
              : await EvaluationItem.distinct('roundId', {
                  requesterId: principal.id,
                  requesterResident: true,
                }),
          );
          // The rounds with a group the caller scores its own orders in (a `served` group only
          // for the orders a resident's account filed): checked in code, no $elemMatch.
          const rounds =
            own.length === 0
              ? []
              : await EvaluationRound.find({ _id: { $in: own.sort() } }, { groups: 1 }).lean();
          const mine = rounds
            .filter((r) =>
              (r.groups as RoundGroup[]).some(
                (g) => g.requester && (g.residentsOnly !== true || asResident.has(r._id)),
              ),
            )
            .map((r) => r._id)
            .sort();
          if (mine.length > 0) branches.push({ _id: { $in: mine } });
        }
        if (branches.length === 0) {
          return { items: [], page: query.page, pageSize: query.pageSize, total: 0 };
        }
        filter.$or = branches;
      }
      const docs = await EvaluationRound.find(filter, { results: 0, groups: 0, criteria: 0 })
        .sort({ openedAt: -1, _id: 1 })
        .skip(skipOf(query))
        .limit(query.pageSize)
        .lean();
      const total = await totalOf(query, docs.length, () => EvaluationRound.countDocuments(filter));
      const cases = await deps.models.Case.find(
        { _id: { $in: docs.map((d) => d._id) } },
        { definitionName: 1 },
      ).lean();
      const names = new Map(cases.map((c) => [c._id, c.definitionName]));
      return {
        items: docs.map((round) => ({
          ...roundFacts(round),
          name: names.get(round._id) ?? round.definitionKey,
          definitionKey: round.definitionKey,
          itemCount: round.itemCount,
          supervisor:
            scope.all || (typeof round.unitId === 'string' && scope.unitIds.has(round.unitId)),
        })),
        page: query.page,
        pageSize: query.pageSize,
        total,
      };
    },

    /**
     * Who has scored how much of a round, for its supervisors (404 for anyone else): per group
     * the scores and the orders scored, each selector group's scorers by name with their count,
     * and per order asked about (`itemIds`, a page of them) the scores of each group.
     */
    async roundProgress(
      principal: Principal,
      roundId: string,
      itemIds: readonly string[] = [],
    ): Promise<RoundProgress> {
      const round = await loadRound(roundId);
      if (!(await supervises(principal, round.unitId ?? null))) throw notFound(roundId);
      const groups = round.groups as RoundGroup[];
      // One accumulator per $group (FerretDB v1 computes only the first).
      const [perItem, perScorer, rated] = await Promise.all([
        deps.models.EvaluationScore.aggregate<{ _id: { group: string; item: string }; n: number }>([
          { $match: { roundId } },
          { $group: { _id: { group: '$group', item: '$itemId' }, n: { $sum: 1 } } },
        ]),
        deps.models.EvaluationScore.aggregate<{
          _id: { group: string; scorer: string };
          n: number;
        }>([
          { $match: { roundId } },
          { $group: { _id: { group: '$group', scorer: '$scorer.id' }, n: { $sum: 1 } } },
        ]),
        round.orderRatingGroup
          ? EvaluationItem.find({ roundId, rating: { $ne: null } }, { caseId: 1 }).lean()
          : Promise.resolve([]),
      ]);
      const scoredByGroup = new Map<string, Map<string, number>>();
      const count = (group: string, item: string, n: number) => {
        const items = scoredByGroup.get(group) ?? new Map<string, number>();
        items.set(item, (items.get(item) ?? 0) + n);
        scoredByGroup.set(group, items);
      };
      for (const row of perItem) count(row._id.group, row._id.item, Number(row.n) || 0);
      for (const item of rated) count(round.orderRatingGroup!, item.caseId, 1);
      const byScorer = new Map(
        perScorer.map((row) => [`${row._id.group}\n${row._id.scorer}`, Number(row.n) || 0]),
      );
      const personIds = [
        ...new Set(groups.flatMap((g) => (g.requester ? [] : g.scorers.map((s) => s.personId)))),
      ];
      const people = await deps.models.Person.find(
        { _id: { $in: personIds.sort() } },
        { name: 1 },
      ).lean();
      const personNames = new Map(people.map((p) => [p._id, p.name]));
      const scoredItems = new Set([...scoredByGroup.values()].flatMap((m) => [...m.keys()]));
      const wanted = new Set(itemIds);
      const byItem: Record<string, Record<string, number>> = {};
      for (const id of wanted) {
        byItem[id] = Object.fromEntries(
          groups.map((g) => [g.id, scoredByGroup.get(g.id)?.get(id) ?? 0]),
        );
      }
      return {
        roundId,
        items: round.itemCount,
        scoredItems: scoredItems.size,
        groups: groups.map((g) => {
          const items = scoredByGroup.get(g.id) ?? new Map<string, number>();
          const seen = new Set<string>();
          return {
            id: g.id,
            name: g.name,
            requester: g.requester,
            scores: [...items.values()].reduce((a, b) => a + b, 0),
            scoredItems: items.size,
            scorers: g.requester
              ? []
              : g.scorers
                  .filter((s) => {
                    // A person holding the post in two units is one scorer.
                    if (seen.has(s.personId)) return false;
                    seen.add(s.personId);
                    return true;
                  })
                  .map((s) => ({
                    personId: s.personId,
                    name: personNames.get(s.personId) ?? s.personId,
                    hasAccount: s.userId !== null,
                    scores: s.userId === null ? 0 : (byScorer.get(`${g.id}\n${s.userId}`) ?? 0),
                  })),
          };
        }),
        byItem,
      };
    },
  };
}

export type EvaluationService = ReturnType<typeof createEvaluationService>;

/**
 * A scorer's part of a score document's `_id`: a digest, so no principal id can put a `.`, a `$`
 * or a `:` into it, and ids stay the same length.
 */
function scorerKey(principal: Principal): string {
  return createHash('sha256')
    .update(`${principal.kind}:${principal.id}`)
    .digest('hex')
    .slice(0, 32);
}

function notFound(roundId: string): AppError {
  return new AppError('not_found', `No evaluation round "${roundId}" in your scope`);
}

function roundFacts(round: {
  _id: string;
  unitId?: string | null;
  status: 'open' | 'closed';
  from: Date;
  to: Date;
  openedAt: Date;
  closesAt: Date;
  closedAt?: Date | null;
}): RoundFacts {
  return {
    id: round._id,
    unitId: round.unitId ?? null,
    status: round.status,
    period: { from: round.from.toISOString(), to: round.to.toISOString() },
    openedAt: round.openedAt.toISOString(),
    closesAt: round.closesAt.toISOString(),
    closedAt: round.closedAt ? round.closedAt.toISOString() : null,
  };
}
