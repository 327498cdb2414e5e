import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { SlaTestBed } from '../support/sla-cases';
import { eventsOf, useSlaTestBed } from '../support/sla-cases';
import { bumpOrgRevision } from '../../models/org-revision';
import { scheduledCaseId } from '../../workflows/scheduled';
import type { ScheduledCaseResult } from '../../workflows/scheduled';
import type { FanOutBatchInput } from '../../workflows/fan-out-batch';
import { childStartsOf } from '../../workflows/fan-out-batch';
import { testDataConverter, testStack } from '../support/test-stack';

/**
 * Engine support for periodic rounds on the time-skipping server (which has no schedules, so a
 * fire is started the way a Temporal Schedule starts it: `scheduledCaseWorkflow` under the
 * schedule's workflow id with the fire time appended), and the limit of a fan-out over the org
 * tree.
 */
let bed: SlaTestBed;

useSlaTestBed('periodic-engine', (ready) => {
  bed = ready;
});

describe('a schedule fire', () => {
  it('when a fire starts, then it starts one case of the latest version with the schedule’s unit and data, and the same fire started again starts none', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const key = `round-${randomBytes(3).toString('hex')}`;
    const definition = bed.definition({
      key,
      name: '月度轮次',
      starters: ['admin'],
      schedule: { every: 'month', unit: org.street.id, data: { focus: '安全隐患' } },
      input: { fields: [{ name: 'focus', label: '重点', type: 'string' }] },
      steps: [
        { id: 'wait', name: '等待', type: 'timer', duration: 'P1D' },
        { id: 'closed', name: '结束', type: 'end' },
      ],
    });
    await bed.publish(definition);
    const fireId = `schedule-${key}-2026-05-01T01:00:00Z`;

    // Act
    const [first, again] = await bed.withWorker(async (taskQueue) => {
      const fire = () =>
        bed.env.client.workflow.execute('scheduledCaseWorkflow', {
          taskQueue,
          workflowId: fireId,
          args: [{ definitionKey: key }],
        }) as Promise<ScheduledCaseResult>;
      const one = await fire();
      return [one, await fire()];
    });
    const doc = await bed.db.models.Case.findById(first.caseId).lean();

    // Assert
    expect(first).toEqual({ caseId: scheduledCaseId(fireId), created: true });
    expect(first.caseId).toMatch(/^case-[0-9a-f]{24}$/);
    expect(again).toEqual({ caseId: first.caseId, created: false });
    expect(doc).toMatchObject({
      channel: 'schedule',
      createdBy: { kind: 'system', id: 'schedule' },
      unitId: org.street.id,
      definitionKey: key,
      data: { focus: '安全隐患' },
    });
    expect(scheduledCaseId(`schedule-${key}-2026-06-01T01:00:00Z`)).not.toBe(first.caseId);
  });
});

describe('a schedule fire for every unit of a type', () => {
  function roundForEach(type: string, under: string) {
    return bed.definition({
      key: `round-${randomBytes(3).toString('hex')}`,
      name: '每网格轮次',
      starters: ['admin'],
      schedule: { every: 'month', unitsOfType: type, under },
      input: { fields: [] },
      steps: [{ id: 'closed', name: '结束', type: 'end' }],
    });
  }

  it('when a fire finds 260 grids, then each grid gets one case of its own, started in slices, and the same fire started again starts none', async () => {
    // Arrange: 260 grids under one community (more than one slice of 250)
    const org = await bed.seedOrg();
    await addGrids(org, 259);
    const round = roundForEach('grid', org.community.id);
    await bed.publish(round);
    const fireId = `schedule-${round.key}-2026-05-06T01:00:00Z`;

    // Act
    const [first, again] = await bed.withWorker(async (taskQueue) => {
      const fire = () =>
        bed.env.client.workflow.execute('scheduledCaseWorkflow', {
          taskQueue,
          workflowId: fireId,
          args: [{ definitionKey: round.key }],
        }) as Promise<ScheduledCaseResult>;
      const one = await fire();
      await waitForCases(round.key, 260);
      return [one, await fire()];
    });
    const cases = await bed.db.models.Case.find(
      { definitionKey: round.key },
      { unitId: 1, channel: 1 },
    ).lean();

    // Assert: one case per grid, each for its grid, named after the fire and the grid
    expect(first.created).toBe(true);
    expect(first.units).toHaveLength(260);
    expect(new Set(first.units!.map((u) => u.unitId)).size).toBe(260);
    for (const unit of first.units!) {
      expect(unit.caseId).toBe(scheduledCaseId(`${fireId}:${unit.unitId}`));
    }
    expect(cases).toHaveLength(260);
    expect(new Set(cases.map((c) => c.unitId))).toEqual(new Set(first.units!.map((u) => u.unitId)));
    expect(cases.every((c) => c.channel === 'schedule')).toBe(true);
    // …and the fire again starts nothing new
    expect(again.created).toBe(false);
    expect(again.units).toEqual(first.units);
    expect(await bed.db.models.Case.countDocuments({ definitionKey: round.key })).toBe(260);
  });

  it('when a fire finds no unit of the type, then it fails saying so and starts nothing', async () => {
    // Arrange
    const org = await bed.seedOrg();
    const round = roundForEach('floor', org.community.id);
    await bed.publish(round);

    // Act
    const failure = await bed.withWorker((taskQueue) =>
      bed.env.client.workflow
        .execute('scheduledCaseWorkflow', {
          taskQueue,
          workflowId: `schedule-${round.key}-2026-05-06T01:00:00Z`,
          args: [{ definitionKey: round.key }],
        })
        .then(
          () => null,
          (err: unknown) => err,
        ),
    );

    // Assert
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toBe(
      `Process "${round.key}" is scheduled for every floor under unit ${org.community.id}, and there is none`,
    );
    expect(await bed.db.models.Case.countDocuments({ definitionKey: round.key })).toBe(0);
  });
});

async function waitForCases(definitionKey: string, count: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await bed.db.models.Case.countDocuments({ definitionKey })) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`fewer than ${count} cases of ${definitionKey} after 120 s`);
}

/** `count` grids under the seeded community (written past the org service, so it says so). */
async function addGrids(org: Awaited<ReturnType<SlaTestBed['seedOrg']>>, count: number) {
  for (let at = 0; at < count; at += 1000) {
    await bed.db.models.Unit.insertMany(
      Array.from({ length: Math.min(1000, count - at) }, (_, k) => ({
        _id: `${org.grid.id}-x${at + k}`,
        name: `网格${at + k}`,
        type: 'grid',
        parentId: org.community.id,
        updatedAt: new Date(),
      })),
    );
  }
  await bumpOrgRevision(bed.db.models);
}

function roundOver(childKey: string) {
  return bed.definition({
    key: `round-${randomBytes(3).toString('hex')}`,
    name: '月度轮次',
    starters: ['admin'],
    input: { fields: [] },
    steps: [
      {
        id: 'grids',
        name: '各网格',
        type: 'subprocess',
        definition: childKey,
        forEach: { units: { type: 'grid', within: 'community' } },
      },
      { id: 'closed', name: '结束', type: 'end' },
    ],
  });
}

async function publishedChild() {
  const child = bed.definition({
    key: `report-${randomBytes(3).toString('hex')}`,
    name: '网格上报',
    starters: ['admin'],
    input: { fields: [] },
    steps: [{ id: 'closed', name: '结束', type: 'end' }],
  });
  await bed.publish(child);
  return child;
}

describe('a fan-out over the org tree', () => {
  it('when 301 grids are found, then every grid gets its child case, started in parallel slices, and no history grows with the whole fan-out', async () => {
    // Arrange: 301 grids under one community (more than one slice of 250)
    const org = await bed.seedOrg();
    await addGrids(org, 300);
    const child = await publishedChild();
    const round = roundOver(child.key);

    // Act
    const { caseId, doc, parentEvents, batchIds, batchInputs, histories } = await bed.withWorker(
      async (queue) => {
        const kase = await bed.startCase(queue, round, org.grid.id);
        await kase.handle.result();
        const history = await kase.handle.fetchHistory();
        const starts = (history.events ?? []).flatMap((e) =>
          e.startChildWorkflowExecutionInitiatedEventAttributes
            ? [e.startChildWorkflowExecutionInitiatedEventAttributes]
            : [],
        );
        const ids = starts.map((start) => start.workflowId!);
        return {
          caseId: kase.handle.workflowId,
          doc: await kase.doc(),
          parentEvents: history.events?.length ?? 0,
          batchIds: ids,
          batchInputs: starts.map((start) => start.input!.payloads![0]!),
          histories: [
            { workflowId: kase.handle.workflowId, history },
            ...(await Promise.all(
              ids.map(async (id) => ({
                workflowId: id,
                history: await bed.env.client.workflow.getHandle(id).fetchHistory(),
              })),
            )),
          ],
        };
      },
    );
    const children = await bed.db.models.Case.find({ parentCaseId: caseId }, { status: 1 }).lean();

    // Assert: 301 children, all closed, each named once on the parent's timeline
    expect(doc.status).toBe('closed');
    expect(children).toHaveLength(301);
    expect(children.every((c) => c.status === 'closed')).toBe(true);
    const started = eventsOf(doc.timeline, 'subprocess.started');
    expect(new Set(started.map((e) => e.detail?.caseId)).size).toBe(301);
    expect(eventsOf(doc.timeline, 'subprocess.ended')).toHaveLength(301);
    // …the parent started two slices, not 301 children, so its history does not grow per grid
    expect(batchIds).toHaveLength(2);
    expect(batchIds.every((id) => id.startsWith('fanout-'))).toBe(true);
    expect(parentEvents).toBeLessThan(150);
    // …each slice names the child's definition once, not once per child, and its children's
    // inputs and memos come back whole from it (the batch starts them from what it rebuilds)
    const [codec] = testDataConverter().payloadCodecs ?? [];
    const slices = await Promise.all(
      batchInputs.map(async (payload) => {
        const [plain] = codec ? await codec.decode([payload]) : [payload];
        const input = defaultPayloadConverter.fromPayload<FanOutBatchInput>(plain!);
        return { bytes: payload.data!.length, input };
      }),
    );
    for (const { bytes, input } of slices) {
      expect(input).toMatchObject({ shared: { definition: { key: child.key } }, wait: true });
      const each = 'each' in input ? input.each : [];
      expect(each.every((own) => own.definition === undefined && own.caseId)).toBe(true);
      const whole = JSON.stringify({ children: childStartsOf(input), wait: true });
      expect(bytes * 2).toBeLessThan(whole.length);
    }
    expect(slices.map(({ input }) => ('each' in input ? input.each.length : 0))).toEqual([250, 51]);
    // …and the parent and both batches replay on the interpreter as they ran.
    for (const { workflowId, history } of histories) {
      await Worker.runReplayHistory(
        {
          workflowBundle: { codePath: testStack().workflowBundlePath },
          dataConverter: testDataConverter(),
        },
        history,
        workflowId,
      );
    }
  });

  it('when more than 20,000 units are found, then no child starts and the case fails, saying how many', async () => {
    // Arrange: 20,001 grids under one community
    const org = await bed.seedOrg();
    await addGrids(org, 20_000);
    const child = await publishedChild();
    const round = roundOver(child.key);

    // Act
    const { failure, doc } = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, round, org.grid.id);
      const error = await kase.handle.result().then(
        () => null,
        (err: unknown) => err,
      );
      return { failure: error, doc: await kase.doc() };
    });

    // Assert
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(String((failure as WorkflowFailedError).cause?.message)).toContain('found 20001 units');
    expect(doc.status).toBe('failed');
    expect(eventsOf(doc.timeline, 'subprocess.refused')[0]?.detail).toEqual({
      definition: child.key,
      units: 20_001,
      limit: 20_000,
    });
    expect(eventsOf(doc.timeline, 'subprocess.started')).toHaveLength(0);
  });
});
