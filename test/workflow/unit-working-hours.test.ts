import type { SlaTestBed } from '../support/sla-cases';
import { useSlaTestBed } from '../support/sla-cases';
import { beijingText, bj } from '../support/beijing';
import { bumpOrgRevision } from '../../models/org-revision';
import { addWorkingMinutes } from '../../common/working-calendar';

/**
 * Per-unit working hours: a task's working-time deadline counts in the hours of the unit its
 * people were found in, inherited from the unit above (Binzhou's evening service, 晚间四小时);
 * a unit without hours of its own anywhere above it counts in the default office hours.
 */
let bed: SlaTestBed;

useSlaTestBed('unit-working-hours', (ready) => {
  bed = ready;
});

it('when a community serves 18:00–22:00, then a grid task opened on Monday at 10:00 with two working hours is due at 20:00, and a task elsewhere in office hours', async () => {
  // Arrange: the evening community's hours on the community; its grid inherits them
  const evening = await bed.seedOrg();
  const office = await bed.seedOrg();
  await bed.db.models.WorkingHours.create({
    _id: evening.community.id,
    windows: [{ start: '18:00', end: '22:00' }],
    everyDay: false,
    updatedAt: new Date(),
  });
  await bumpOrgRevision(bed.db.models);
  const definition = bed.serviceDefinition(`evening-${Date.now()}`, [
    { id: 'answer', name: '答复时限', within: '2 working hours' },
  ]);
  const monday = await bed.quietMonday();

  // Act
  const { eveningDue, officeDue, officeOpenedAt } = await bed.withWorker(async (queue) => {
    await bed.skipTo(bj(`${monday} 10:00`));
    const inEvening = await bed.openTask(queue, evening, definition);
    const inOffice = await bed.openTask(queue, office, definition);
    return {
      eveningDue: inEvening.task.deadlines[0]!.dueAt,
      officeDue: inOffice.task.deadlines[0]!.dueAt,
      officeOpenedAt: inOffice.openedAt,
    };
  });

  // Assert
  expect(beijingText(eveningDue!)).toBe(`${monday} 20:00`);
  // The office hours' answer, from the instant that task opened (seconds after 10:00).
  const inOfficeHours = addWorkingMinutes(await bed.calendar(), new Date(officeOpenedAt), 120);
  expect(officeDue).toBe(inOfficeHours.at.toISOString());
  expect(beijingText(officeDue!) < `${monday} 18:00`).toBe(true);
});

it('when a timer and a case deadline fall 2 working hours after a meeting at 11:00 in the evening community, then both count in its 18:00–22:00 hours: Monday at 20:00', async () => {
  // Arrange
  const evening = await bed.seedOrg();
  await bed.db.models.WorkingHours.create({
    _id: evening.community.id,
    windows: [{ start: '18:00', end: '22:00' }],
    everyDay: false,
    updatedAt: new Date(),
  });
  await bumpOrgRevision(bed.db.models);
  const definition = bed.definition({
    key: `after-meeting-${Date.now()}`,
    name: '会后计时',
    starters: ['resident'],
    input: { fields: [{ name: 'meetingAt', label: '会议时间', type: 'datetime', required: true }] },
    deadlines: [
      {
        id: 'answer',
        name: '会后2个工作小时内答复',
        at: 'data.meetingAt',
        after: '2 working hours',
        escalations: [{ notify: { role: 'director', unit: 'community' } }],
      },
    ],
    steps: [
      {
        id: 'wait',
        name: '会后等待',
        type: 'timer',
        until: 'data.meetingAt',
        after: '2 working hours',
      },
      { id: 'closed', name: '办结', type: 'end' },
    ],
  });
  const monday = await bed.quietMonday();

  // Act
  const { caseDue, fired } = await bed.withWorker(async (queue) => {
    await bed.skipTo(bj(`${monday} 10:00`));
    const kase = await bed.startCase(queue, definition, evening.grid.id, {
      meetingAt: `${monday}T11:00:00+08:00`,
    });
    const planned = await kase.waitForDoc(
      'the case deadline planned',
      (d) => d.deadlines.length === 1 && d.deadlines[0]!.dueAt !== null,
    );
    // Awaiting the result lets the server skip to the timer, however late it was set.
    await kase.handle.result();
    const [timer] = await kase.waitForEvents('timer.fired', 1);
    return { caseDue: planned.deadlines[0]!.dueAt, fired: timer! };
  });

  // Assert
  expect(beijingText(caseDue!)).toBe(`${monday} 20:00`);
  expect(fired.detail).toMatchObject({ until: 'data.meetingAt', after: '2 working hours' });
  expect(beijingText(String(fired.detail!.at))).toBe(`${monday} 20:00`);
});
