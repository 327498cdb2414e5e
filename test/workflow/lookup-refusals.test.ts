import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MAX_READ_PER_UNIT, MAX_UNITS_READ } from '../../activities/open-items';
import { MAX_OPEN_ITEMS_LISTED } from '../../lang/lookup';
import { bumpOrgRevision } from '../../models/org-revision';
import type { CaseDoc, RunningCase, SeededOrg, SlaTestBed } from '../support/sla-cases';
import { eventsOf, stepsEntered, useSlaTestBed } from '../support/sla-cases';

/**
 * The `open-items` lookup's bounds (docs 6.16, activities/open-items.ts) on the time-skipping
 * server with the real activities, through the shipped 党建联席会议 (its first step reads the
 * open items): a subtree of at most MAX_UNITS_READ units, and at most MAX_READ_PER_UNIT open items
 * of a kind in one unit, are read whole; one more fails the case with `lookup.refused` naming the
 * reason and the count, before any task opens, and the run fails with `LookupRefused`. Never a
 * crash, never a list silently cut short.
 */
let bed: SlaTestBed;

useSlaTestBed('lookup-refusals', (ready) => {
  bed = ready;
});

/** `count` compounds under the org's grid, written in bulk, then the org revision moved once. */
async function addCompounds(org: SeededOrg, count: number): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  await bed.db.models.Unit.insertMany(
    Array.from({ length: count }, (_, i) => ({
      _id: `u-${tag}-compound-${i}`,
      name: `小区${i}`,
      type: 'compound',
      parentId: org.grid.id,
      updatedAt: new Date(),
    })),
  );
  await bumpOrgRevision(bed.db.models);
}

/** `count` open cases of the grid with a deadline missed (`metrics.overdue`), in bulk. */
async function addOverdueCases(org: SeededOrg, count: number): Promise<void> {
  const tag = randomBytes(3).toString('hex');
  const at = new Date(await bed.now());
  await bed.db.models.Case.insertMany(
    Array.from({ length: count }, (_, i) => ({
      _id: `case-${tag}-overdue-${i}`,
      revision: 3,
      status: 'open',
      definitionKey: 'hotline-12345',
      definitionVersion: 1,
      definitionName: 'hotline-12345',
      data: {},
      createdBy: { kind: 'user', id: 'usr_resident' },
      unitId: org.grid.id,
      channel: 'api',
      requestHash: 'h',
      metrics: { overdue: 1 },
      createdAt: at,
      updatedAt: at,
    })),
  );
}

/** A joint meeting of the org's community, run until it opens its preparation or fails. */
async function meetingOf(org: SeededOrg): Promise<{
  kase: RunningCase;
  doc: CaseDoc;
  error: unknown;
}> {
  const definition = await bed.shippedWith('joint-meeting.yaml', 'joint-meeting-item.yaml');
  return bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.community.id, { topic: '联席会议' });
    const doc = await kase.waitForDoc(
      'the lookup read or refused',
      (d) => d.status === 'failed' || d.timeline.some((e) => e.type === 'task.opened'),
    );
    const error =
      doc.status === 'failed'
        ? await kase.handle.result().then(
            () => null,
            (err: unknown) => err,
          )
        : null;
    return { kase, doc, error };
  });
}

function expectRefused(
  outcome: { doc: CaseDoc; error: unknown },
  detail: Record<string, unknown>,
  message: string,
): void {
  expect(outcome.doc.status).toBe('failed');
  expect(eventsOf(outcome.doc.timeline, 'lookup.refused').map((e) => e.detail)).toEqual([detail]);
  // Nothing read, no task opened on a partial agenda
  expect(eventsOf(outcome.doc.timeline, 'lookup.read')).toEqual([]);
  expect(eventsOf(outcome.doc.timeline, 'task.opened')).toEqual([]);
  expect(eventsOf(outcome.doc.timeline, 'case.closed', { status: 'failed' })).toHaveLength(1);
  // …and the run failed with the step's refusal, not a crash of the activity
  expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
  const cause = (outcome.error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'LookupRefused', nonRetryable: true });
  expect(cause!.message).toBe(message);
}

describe('open-items: the units of the subtree (too-many-units)', () => {
  it(`when the community's subtree has exactly ${MAX_UNITS_READ} units, then every unit is read and the preparation opens`, async () => {
    // Arrange: the community, its grid and MAX_UNITS_READ - 2 compounds
    const org = await bed.seedOrg();
    await addCompounds(org, MAX_UNITS_READ - 2);

    // Act
    const outcome = await meetingOf(org);

    // Assert
    expect(outcome.doc.status).toBe('open');
    expect(eventsOf(outcome.doc.timeline, 'lookup.read').map((e) => e.detail)).toEqual([
      { source: 'open-items', count: 0, unclaimed: 0, overdue: 0 },
    ]);
    expect(stepsEntered(outcome.doc.timeline)).toEqual(['open', 'prepare']);
  });

  it(`when the community's subtree has ${MAX_UNITS_READ + 1} units, then the case fails with lookup.refused naming too-many-units and the count, before any task opens`, async () => {
    // Arrange: one compound more
    const org = await bed.seedOrg();
    await addCompounds(org, MAX_UNITS_READ - 1);

    // Act
    const outcome = await meetingOf(org);

    // Assert
    expectRefused(
      outcome,
      { source: 'open-items', reason: 'too-many-units', count: MAX_UNITS_READ + 1 },
      `Step "open" would read ${MAX_UNITS_READ + 1} units one by one: start the case for a street or a community`,
    );
  });
});

describe('open-items: the items of one unit (too-many-items)', () => {
  it(`when one grid has exactly ${MAX_READ_PER_UNIT} overdue cases, then all are counted (the list kept to its 50) and the preparation opens`, async () => {
    // Arrange
    const org = await bed.seedOrg();
    await addOverdueCases(org, MAX_READ_PER_UNIT);

    // Act
    const outcome = await meetingOf(org);
    const task = await outcome.kase.task(outcome.kase.taskId('prepare'));

    // Assert: the whole count, never a truncated one
    expect(outcome.doc.status).toBe('open');
    expect(eventsOf(outcome.doc.timeline, 'lookup.read').map((e) => e.detail)).toEqual([
      { source: 'open-items', count: MAX_READ_PER_UNIT, unclaimed: 0, overdue: MAX_READ_PER_UNIT },
    ]);
    expect(task!.prefill).toMatchObject({ unclaimed: 0, overdue: MAX_READ_PER_UNIT });
    // …the agenda's draft counts them all and lists at most 50 (chosen, MAX_OPEN_ITEMS_LISTED)
    const agenda = String(task!.prefill!.agenda).split('\n');
    expect(agenda[0]).toBe(`无人认领的需求 0 件，逾期未办结事项 ${MAX_READ_PER_UNIT} 件。`);
    expect(agenda.length).toBeLessThanOrEqual(1 + MAX_OPEN_ITEMS_LISTED + 1);
  });

  it(`when one grid has ${MAX_READ_PER_UNIT + 1} overdue cases, then the case fails with lookup.refused naming too-many-items, before any task opens`, async () => {
    // Arrange: the bound's worth and one more, in the grid
    const org = await bed.seedOrg();
    await addOverdueCases(org, MAX_READ_PER_UNIT + 1);

    // Act
    const outcome = await meetingOf(org);

    // Assert: the count named is the bound (the read stops one past it)
    expectRefused(
      outcome,
      { source: 'open-items', reason: 'too-many-items', count: MAX_READ_PER_UNIT },
      `Step "open" found more than ${MAX_READ_PER_UNIT} open items in one unit: read per smaller unit`,
    );
  });
});
