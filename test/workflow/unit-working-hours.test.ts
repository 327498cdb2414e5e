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
