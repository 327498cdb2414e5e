import type {
  CloseRoundResult,
  MeetingRecord,
  OpenRoundRequest,
  RoundGroup,
  OpenRoundResult,
  RoundResults,
  ScoreRequest,
  ScoreResult,
} from '../common/evaluation';
import {
  assessmentRecordsOf,
  computeRoundResults,
  isResidentAccount,
  isServiceOrderProcess,
  MAX_ROUND_ITEMS,
} from '../common/evaluation';
import { childrenByParent, unitsAtOrBelow } from '../common/org-tree';
import type { ActivityDependencies } from './dependencies';

/**
 * The side effects of an evaluation round (评单评议): selecting and storing its orders when it
 * opens, recording scores (rounds taking them as Updates; newer rounds' scores are written by
 * the API, services/evaluations.ts), and freezing the results when it closes. Each write is keyed
 * (round, round + order, round + order + scorer), so a retried activity changes nothing twice. Only
 * bounded, projected reads and single-document writes: the same on FerretDB v1 and MongoDB
 * (results are summed here, in code, not by `$group`).
 */
export function createEvaluationActivities(deps: ActivityDependencies) {
  const {
    Case,
    Definition,
    User,
    Unit,
    Post,
    Person,
    EvaluationRound,
    EvaluationItem,
    EvaluationScore,
    EvaluationMeeting,
    AssessmentRecord,
  } = deps.models;

  /**
   * The keys of the service orders (isServiceOrderProcess) by the latest published version of
   * each process, sorted; never the round's own process.
   */
  async function serviceOrderProcesses(roundKey: string): Promise<string[]> {
    const versions = await Definition.find(
      { status: 'published' },
      { key: 1, version: 1, spec: 1 },
    ).lean();
    const latest = new Map<string, { version: number; spec: unknown }>();
    for (const v of versions) {
      const seen = latest.get(v.key);
      if (!seen || v.version > seen.version)
        latest.set(v.key, { version: v.version, spec: v.spec });
    }
    return [...latest.entries()]
      .filter(([key, v]) => key !== roundKey && isServiceOrderProcess(v.spec))
      .map(([key]) => key)
      .sort();
  }

  /**
   * The annual assessment records (年度考核记录) of a closed round, from its frozen results: one
   * document per round and subject, replaced with the same content by a retry.
   */
  async function writeAssessmentRecords(roundId: string): Promise<void> {
    const round = await EvaluationRound.findById(roundId, {
      unitId: 1,
      from: 1,
      to: 1,
      closedAt: 1,
      results: 1,
    }).lean();
    if (!round?.results || !round.closedAt) return;
    const records = assessmentRecordsOf({
      roundId,
      roundUnitId: round.unitId ?? null,
      period: { from: round.from.toISOString(), to: round.to.toISOString() },
      closedAt: round.closedAt.toISOString(),
      results: round.results as RoundResults,
    });
    for (const { id, closedAt, ...record } of records) {
      await AssessmentRecord.replaceOne(
        { _id: id },
        { ...record, closedAt: new Date(closedAt) },
        { upsert: true },
      );
    }
  }

  return {
    /**
     * Opens a round: the cases of its unit and everything below (the whole tree for a round
     * without a unit) closed in [from, to), optionally of some processes only, become its items.
     * More than {@link MAX_ROUND_ITEMS} is refused and nothing is stored.
     */
    async openEvaluationRound(request: OpenRoundRequest): Promise<OpenRoundResult> {
      const existing = await EvaluationRound.findById(request.roundId, { itemCount: 1 }).lean();
      if (existing) return { items: existing.itemCount, refused: false };
      // The processes: the round's list; else the service orders (rounds opened since that
      // default); else, for rounds opened before it, every process but the round's own.
      let definitions = request.definitions;
      if (definitions === null && request.processes === 'service-orders') {
        definitions = await serviceOrderProcesses(request.definitionKey);
      }
      const filter: Record<string, unknown> = {
        status: 'closed',
        closedAt: { $gte: new Date(request.from), $lt: new Date(request.to) },
        definitionKey: definitions !== null ? { $in: definitions } : { $ne: request.definitionKey },
      };
      if (request.unitId !== null) {
        const units = await Unit.find({}, { _id: 1, parentId: 1 }).lean();
        const children = childrenByParent(
          units.map((u) => ({ id: u._id, parentId: u.parentId ?? null })),
        );
        filter.unitId = { $in: [...unitsAtOrBelow(children, [request.unitId])].sort() };
      }
      const orders = await Case.find(filter, {
        _id: 1,
        unitId: 1,
        definitionKey: 1,
        definitionName: 1,
        category: 1,
        createdBy: 1,
        rating: 1,
        closedAt: 1,
        servedBy: 1,
      })
        .sort({ closedAt: 1, _id: 1 })
        .limit(MAX_ROUND_ITEMS + 1)
        .lean();
      if (orders.length > MAX_ROUND_ITEMS) return { items: orders.length, refused: true };
      // Which requesters are residents' accounts (the residents served of a `served` group).
      const requesters = [
        ...new Set(orders.filter((o) => o.createdBy.kind === 'user').map((o) => o.createdBy.id)),
      ].sort();
      const accounts =
        requesters.length === 0
          ? []
          : await User.find({ _id: { $in: requesters } }, { roles: 1 }).lean();
      const residents = new Set(
        accounts.filter((a) => isResidentAccount(a.roles)).map((a) => a._id),
      );
      // Items first, the round last: a retry after a crash finds no round and writes them again
      // (upserts of the same content), and a round once stored has all its items.
      for (const order of orders) {
        const rating = (order.rating as { score?: number | null } | null)?.score;
        const served = (order.servedBy ?? null) as {
          unitIds?: unknown;
          personIds?: unknown;
        } | null;
        await EvaluationItem.updateOne(
          { _id: `${request.roundId}:${order._id}` },
          {
            $setOnInsert: {
              roundId: request.roundId,
              caseId: order._id,
              unitId: order.unitId ?? null,
              definitionKey: order.definitionKey,
              definitionName: order.definitionName,
              category: order.category ?? null,
              requesterId: order.createdBy.id,
              requesterResident:
                order.createdBy.kind === 'user' && residents.has(order.createdBy.id),
              rating: typeof rating === 'number' ? rating : null,
              closedAt: order.closedAt,
              servedUnitIds: idsOf(served?.unitIds),
              servedPersonIds: idsOf(served?.personIds),
            },
          },
          { upsert: true },
        );
      }
      await EvaluationRound.updateOne(
        { _id: request.roundId },
        {
          $setOnInsert: {
            stepId: request.stepId,
            definitionKey: request.definitionKey,
            unitId: request.unitId,
            status: 'open',
            from: new Date(request.from),
            to: new Date(request.to),
            definitions,
            criteria: request.criteria,
            groups: request.groups,
            orderRatingGroup: request.orderRatingGroup,
            responsibleRole: request.responsibleRole,
            itemCount: orders.length,
            openedAt: new Date(request.openedAt),
            closesAt: new Date(request.closesAt),
            closedAt: null,
            results: null,
            scoresVia: request.scoresVia ?? 'update',
            closingAt: null,
          },
        },
        { upsert: true },
      );
      return { items: orders.length, refused: false };
    },

    /** Records one scorer's scores, one document per order: the same call again changes nothing. */
    async recordEvaluationScores(
      request: ScoreRequest & { roundId: string; at: string },
    ): Promise<ScoreResult> {
      for (const entry of request.entries) {
        await EvaluationScore.updateOne(
          { _id: `${request.roundId}:${entry.itemId}:${request.actor.kind}:${request.actor.id}` },
          {
            $set: {
              roundId: request.roundId,
              itemId: entry.itemId,
              group: request.group,
              scorer: { kind: request.actor.kind, id: request.actor.id },
              values: entry.values,
              comment: entry.comment?.trim() || null,
              at: new Date(request.at),
            },
          },
          { upsert: true },
        );
      }
      return { roundId: request.roundId, group: request.group, recorded: request.entries.length };
    },

    /**
     * Closes a round: its results from the items and the scores recorded until now, per order,
     * per unit (with everything below it) and per holder of the responsible post, stored on the
     * round and never computed again. Orders nobody scored stay missing. Answers only figures,
     * so no name enters the workflow history.
     */
    async closeEvaluationRound(request: {
      roundId: string;
      closedAt: string;
    }): Promise<CloseRoundResult> {
      const round = await EvaluationRound.findById(request.roundId).lean();
      if (!round) throw new Error(`No evaluation round ${request.roundId}`);
      type Stored = ReturnType<typeof computeRoundResults>;
      if (round.status === 'closed' && round.results) {
        // A retry after the results were frozen: the records again (the same documents).
        await writeAssessmentRecords(request.roundId);
        return summaryOf(round.results as Stored);
      }
      // Rounds whose scores the API writes: this runs SCORE_CLOSE_GRACE_MS (chosen, 60 s) after
      // `closesAt` (the workflow waits). The API refuses a score once `now >= closesAt` and undoes
      // any write that ended more than SCORE_WRITE_BUDGET_MS (chosen, 10 s) after its check, so
      // every score it answered 200 for is stored before this point, given API and Temporal
      // clocks within SCORE_CLOCK_SKEW_MS (50 s). `closingAt` also refuses scores from an API
      // host whose clock runs behind. No transaction, and no document two writers share: each
      // score is its own document (docs/definition-language.md 6.12).
      if (round.scoresVia === 'api') {
        await EvaluationRound.updateOne(
          { _id: request.roundId, closingAt: null },
          { $set: { closingAt: new Date(request.closedAt) } },
        );
      }
      const items = await EvaluationItem.find(
        { roundId: request.roundId },
        {
          caseId: 1,
          unitId: 1,
          definitionKey: 1,
          rating: 1,
          servedUnitIds: 1,
          servedPersonIds: 1,
        },
      ).lean();
      const scores = await EvaluationScore.find(
        { roundId: request.roundId },
        { itemId: 1, group: 1, values: 1 },
      ).lean();
      const units = await Unit.find({}, { _id: 1, name: 1, type: 1, parentId: 1 }).lean();
      const posts = await Post.find(
        { role: round.responsibleRole },
        { unitId: 1, personId: 1 },
      ).lean();
      const servingIds = new Set(items.flatMap((i) => i.servedPersonIds ?? []));
      const groups = round.groups as RoundGroup[];
      // The 评单会 recorded (rounds with a meeting group only: older results stay as they were).
      const hasMeetings = groups.some((g) => g.meeting);
      const meetings = hasMeetings
        ? await EvaluationMeeting.find({ roundId: request.roundId }).lean()
        : [];
      const hostIds = meetings.map((m) => m.hostPersonId);
      const people = await Person.find(
        {
          _id: {
            $in: [...new Set([...posts.map((p) => p.personId), ...servingIds, ...hostIds])].sort(),
          },
        },
        { name: 1 },
      ).lean();
      const names = new Map(people.map((p) => [p._id, p.name]));
      const unitNames = new Map(units.map((u) => [u._id, u.name]));
      const results = computeRoundResults({
        rootUnitId: round.unitId ?? null,
        criteria: round.criteria as Array<{ id: string; name: string }>,
        groups: groups.map((g) => ({ id: g.id, name: g.name, weight: g.weight })),
        orderRatingGroup: round.orderRatingGroup ?? null,
        items: items.map((i) => ({
          itemId: i.caseId,
          unitId: i.unitId ?? null,
          definitionKey: i.definitionKey,
          rating: i.rating ?? null,
          servedUnitIds: i.servedUnitIds ?? [],
          servedPersonIds: i.servedPersonIds ?? [],
        })),
        scores: scores.map((s) => ({
          itemId: s.itemId,
          group: s.group,
          values: s.values as Record<string, number>,
        })),
        units: units.map((u) => ({
          id: u._id,
          name: u.name,
          type: u.type,
          parentId: u.parentId ?? null,
        })),
        ...(hasMeetings
          ? {
              meetings: meetings.map((m): MeetingRecord => ({
                group: m.group,
                unitId: m.unitId,
                unitName: unitNames.get(m.unitId) ?? m.unitId,
                hostPersonId: m.hostPersonId,
                hostName: names.get(m.hostPersonId) ?? m.hostPersonId,
                heldOn: m.heldOn,
                representatives: m.representatives,
                residents: m.residents,
                minutes: m.minutes,
                orders: m.orders,
                recordedAt: m.at.toISOString(),
              })),
            }
          : {}),
        servedPeople: [...servingIds].flatMap((personId) => {
          const name = names.get(personId);
          return name === undefined ? [] : [{ personId, name }];
        }),
        responsible: posts.flatMap((p) => {
          const name = names.get(p.personId);
          return name === undefined ? [] : [{ personId: p.personId, name, unitId: p.unitId }];
        }),
      });
      await EvaluationRound.updateOne(
        { _id: request.roundId, status: 'open' },
        { $set: { status: 'closed', closedAt: new Date(request.closedAt), results } },
      );
      await writeAssessmentRecords(request.roundId);
      const stored = await EvaluationRound.findById(request.roundId, { results: 1 }).lean();
      return summaryOf(stored!.results as Stored);
    },
  };
}

/** A list of ids as stored on a case (`servedBy`), or empty. */
function idsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function summaryOf(results: {
  overall: { items: number; scored: number; missing: number; score: number | null };
}): CloseRoundResult {
  const { items, scored, missing, score } = results.overall;
  return { items, scored, missing, score };
}
