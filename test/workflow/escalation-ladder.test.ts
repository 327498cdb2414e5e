import type { SlaTestBed } from '../support/sla-cases';
import {
  deadlineOf,
  eventsOf,
  expectFiredAt,
  mailsOf,
  useSlaTestBed,
  SUBJECT,
} from '../support/sla-cases';

/**
 * `upTree` escalation ladders (逐级督办 up the org tree, docs 9.2) on the time-skipping test
 * server with real activities over FerretDB and the SMTP sink: one level per unit above the
 * assignee's, `every` apart, each named by its rank and the unit it reached; past the root the
 * ladder ends.
 */
let bed: SlaTestBed;
const HOUR = 3600_000;
const MINUTE = 60_000;

useSlaTestBed('escalation-ladder', (ready) => {
  bed = ready;
});

it("when a claimed task passes its deadline, then the ladder reaches the secretary of each unit above the assignee's grid an hour apart, and ends past the root", async () => {
  const org = await bed.seedOrg();
  const countySecretary = await bed.addPerson('county-secretary', '孙书记', [
    [org.county, 'secretary'],
  ]);
  const definition = bed.serviceDefinition('up-tree-ladder', [
    {
      id: 'finish',
      name: '办结时限',
      within: 'PT4H',
      escalations: [
        // Four levels above a grid: community, street, county, then nothing (the root).
        { upTree: { role: 'secretary', from: 'assignee', levels: 4, every: 'PT1H' } },
      ],
    },
  ]);
  await bed.withWorker(async (queue) => {
    // Arrange
    const opened = await bed.openTask(queue, org, definition);
    const { kase, taskId } = opened;
    const dueAt = opened.openedAt + 4 * HOUR;
    await kase.claim(taskId, org.gridWorker);

    // Act: at the deadline, level 1
    await bed.skipTo(dueAt + MINUTE);

    // Assert: the community's secretary, the first unit above the grid
    const [level1] = await kase.waitForEvents('deadline.escalated', 1, { level: 1 });
    expectFiredAt(level1!.at, dueAt);
    expect(level1!.detail).toEqual({
      deadline: 'finish',
      task: taskId,
      level: 1,
      people: 1,
      fellBack: false,
      unitId: org.community.id,
      ladder: 1,
    });
    const [toCommunity] = await mailsOf(org.communitySecretary, SUBJECT.escalated);
    expect(toCommunity!.subject).toContain('第 1 级督办');
    expect(toCommunity!.text).toContain(`本事项提交至${org.community.name}`);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(0);

    // Act & Assert: an hour later the street's, two hours later the county's
    await bed.skipTo(dueAt + HOUR + MINUTE);
    const [level2] = await kase.waitForEvents('deadline.escalated', 1, { level: 2 });
    expectFiredAt(level2!.at, dueAt + HOUR);
    expect(level2!.detail).toMatchObject({ ladder: 2, unitId: org.street.id, people: 1 });
    const [toStreet] = await mailsOf(org.streetSecretary, SUBJECT.escalated);
    expect(toStreet!.subject).toContain('第 2 级督办');
    expect(toStreet!.text).toContain(`本事项提交至${org.street.name}`);
    await bed.skipTo(dueAt + 2 * HOUR + MINUTE);
    const [level3] = await kase.waitForEvents('deadline.escalated', 1, { level: 3 });
    expectFiredAt(level3!.at, dueAt + 2 * HOUR);
    expect(level3!.detail).toMatchObject({ ladder: 3, unitId: org.county.id, people: 1 });
    expect(await mailsOf(countySecretary, SUBJECT.escalated)).toHaveLength(1);

    // Act: past the fourth level's instant (nothing above the county)
    await bed.skipTo(dueAt + 3 * HOUR + MINUTE);
    await kase.complete(taskId, org.gridWorker);
    expect(await kase.handle.result()).toMatchObject({ status: 'closed' });

    // Assert: the ladder ended at the root: no fourth level, nothing unresolved, nobody mailed twice
    const doc = await kase.doc();
    expect(eventsOf(doc.timeline, 'deadline.escalated').map((e) => e.detail!['ladder'])).toEqual([
      1, 2, 3,
    ]);
    expect(eventsOf(doc.timeline, 'deadline.unresolved')).toHaveLength(0);
    expect(await mailsOf(countySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(deadlineOf(doc.deadlines, `${taskId}/finish`)).toMatchObject({
      missed: true,
      stopped: true,
      escalationLevel: 3,
    });
  });
});

it('when a ladder counts only some unit types, then its levels skip the others (the street secretary after the community, not the grid)', async () => {
  const org = await bed.seedOrg();
  const gridSecretary = await bed.addPerson('grid-secretary', '网格党支部书记', [
    [org.grid, 'secretary'],
  ]);
  const compound = await bed.addUnit('compound', '幸福小区', org.grid);
  const definition = bed.definition({
    key: 'up-tree-types',
    name: '居民诉求办理',
    starters: ['resident'],
    input: { fields: [{ name: 'compound', label: '小区', type: 'unit' }] },
    steps: [
      {
        id: 'serve',
        name: '网格员办理',
        type: 'task',
        candidates: [{ role: 'grid-worker', unit: 'case' }],
        deadlines: [
          {
            id: 'finish',
            name: '办结时限',
            within: 'PT2H',
            escalations: [
              // Up from the compound: the grid is not a level, so its secretary is never asked.
              {
                upTree: {
                  role: 'secretary',
                  from: { of: { field: 'compound' } },
                  levels: 2,
                  types: ['community', 'street'],
                  every: 'PT30M',
                },
              },
            ],
          },
        ],
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
  await bed.withWorker(async (queue) => {
    const kase = await bed.startCase(queue, definition, org.grid.id, { compound: compound.id });
    const taskId = kase.taskId('serve');
    const task = await kase.waitForTask('the task to open', taskId, (t) =>
      t.deadlines.every((d) => d.dueAt !== null),
    );
    const dueAt = task.openedAt.getTime() + 2 * HOUR;

    await bed.skipTo(dueAt + 30 * MINUTE + MINUTE);

    const [level1, level2] = await kase.waitForEvents('deadline.escalated', 2);
    expect([level1!.detail!['unitId'], level2!.detail!['unitId']]).toEqual([
      org.community.id,
      org.street.id,
    ]);
    expectFiredAt(level2!.at, dueAt + 30 * MINUTE);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(org.streetSecretary, SUBJECT.escalated)).toHaveLength(1);
    expect(await mailsOf(gridSecretary, SUBJECT.escalated)).toHaveLength(0);
  });
});
