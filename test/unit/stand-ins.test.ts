import { loadShippedCalendarYears } from '../../calendars';
import type { DutyRota } from '../../common/duty-rota';
import type { OrgUnit, Post } from '../../common/org-tree';
import { OrgTree } from '../../common/org-tree';
import type { Absence, PostBackup } from '../../common/stand-ins';
import { Availability, selectAvailablePeople, selectOnDuty } from '../../common/stand-ins';
import { createWorkingCalendar } from '../../common/working-calendar';

/** A community with one grid; two grid workers, a secretary, and the street above. */
const units: OrgUnit[] = [
  { id: 'street', name: '博望街道', type: 'street', parentId: null },
  { id: 'community', name: '东关社区', type: 'community', parentId: 'street' },
  { id: 'grid', name: '东关第一网格', type: 'grid', parentId: 'community' },
];
const posts: Post[] = [
  { personId: 'p-wang', unitId: 'grid', role: 'grid-worker' },
  { personId: 'p-zhang', unitId: 'grid', role: 'grid-worker' },
  { personId: 'p-li', unitId: 'community', role: 'secretary' },
  { personId: 'p-liu', unitId: 'community', role: 'director' },
  { personId: 'p-chief', unitId: 'street', role: 'secretary' },
];
const tree = new OrgTree(units, posts);
const calendar = createWorkingCalendar(loadShippedCalendarYears());
const context = { caseUnitId: 'grid', assigneeUnitId: null, data: {} };

/** Monday 7 December 2026, 10:00 in Beijing; absences cover the week. */
const NOW = Date.parse('2026-12-07T10:00:00+08:00');
const away = (personId: string, standInId: string | null = null, id = personId): Absence => ({
  id,
  personId,
  from: '2026-12-07T00:00:00+08:00',
  to: '2026-12-12T00:00:00+08:00',
  reason: 'leave',
  standInId,
});
const secretaryBackup: PostBackup = { unitId: 'community', role: 'secretary', personId: 'p-liu' };

const secretaryOfCommunity = { role: 'secretary', unit: 'community' } as const;

describe('AB-post stand-ins at the moment of selection', () => {
  it('when the holder is away and the absence names a stand-in, then the stand-in answers for the post’s unit', () => {
    const availability = new Availability([away('p-li', 'p-zhang')], [secretaryBackup]);

    const found = selectAvailablePeople(tree, availability, secretaryOfCommunity, context, NOW);

    expect(found.people).toEqual([
      { personId: 'p-zhang', unitId: 'community', standingInFor: 'p-li' },
    ]);
    expect(found.standIns).toEqual([{ personId: 'p-zhang', for: 'p-li', via: 'absence' }]);
    expect(found.fellBack).toBe(false);
  });

  it('when the holder is away without a named stand-in, then the post’s B-holder answers', () => {
    const availability = new Availability([away('p-li')], [secretaryBackup]);

    const found = selectAvailablePeople(tree, availability, secretaryOfCommunity, context, NOW);

    expect(found.people).toEqual([
      { personId: 'p-liu', unitId: 'community', standingInFor: 'p-li' },
    ]);
    expect(found.standIns).toEqual([{ personId: 'p-liu', for: 'p-li', via: 'b-post' }]);
  });

  it('when the named stand-in is away too, then the B-holder answers instead', () => {
    const availability = new Availability(
      [away('p-li', 'p-zhang'), away('p-zhang')],
      [secretaryBackup],
    );

    const found = selectAvailablePeople(tree, availability, secretaryOfCommunity, context, NOW);

    expect(found.people.map((p) => p.personId)).toEqual(['p-liu']);
  });

  it('when the holder is away and nobody covers the post, then it counts as vacant and the unit above answers (兜底)', () => {
    const availability = new Availability([away('p-li')], []);

    const found = selectAvailablePeople(tree, availability, secretaryOfCommunity, context, NOW);

    expect(found.people).toEqual([{ personId: 'p-chief', unitId: 'street' }]);
    expect(found.unit?.id).toBe('street');
    expect(found.fellBack).toBe(true);
    expect(found.standIns).toEqual([]);
  });

  it('when one of two holders is away with nobody to cover, then the other one alone answers', () => {
    const availability = new Availability([away('p-wang')], []);

    const found = selectAvailablePeople(
      tree,
      availability,
      { role: 'grid-worker', unit: 'case' },
      context,
      NOW,
    );

    expect(found.people).toEqual([{ personId: 'p-zhang', unitId: 'grid' }]);
    expect(found.fellBack).toBe(false);
  });

  it('when the absence has ended (its `to` is the instant back), then the holder answers again', () => {
    const availability = new Availability([away('p-li', 'p-zhang')], []);

    const back = Date.parse('2026-12-12T00:00:00+08:00');
    const found = selectAvailablePeople(tree, availability, secretaryOfCommunity, context, back);

    expect(found.people).toEqual([{ personId: 'p-li', unitId: 'community' }]);
    expect(found.standIns).toEqual([]);
  });

  it('when a broadcast selects every grid worker below the street and one is away, then their stand-in is called in their place', () => {
    const availability = new Availability([away('p-wang', 'p-li')], []);

    const found = selectAvailablePeople(
      tree,
      availability,
      { role: 'grid-worker', unitsOfType: 'grid', under: 'street' },
      context,
      NOW,
    );

    expect(found.people).toEqual([
      { personId: 'p-li', unitId: 'grid', standingInFor: 'p-wang' },
      { personId: 'p-zhang', unitId: 'grid' },
    ]);
  });
});

describe('who is on duty, with stand-ins', () => {
  /** The community's evening service (晚间四小时), 18:00–22:00 every day. */
  const rota: DutyRota = {
    unitId: 'community',
    shifts: [
      {
        on: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
        start: '18:00',
        end: '22:00',
        people: ['p-zhang'],
        roles: ['director'],
      },
    ],
  };
  const rotaOf = (unitId: string) => (unitId === 'community' ? rota : null);
  const evening = Date.parse('2026-12-07T19:00:00+08:00');

  it('when a shift is running, then its people and the holders of its roles are on duty', () => {
    const found = selectOnDuty(
      tree,
      new Availability([], []),
      rotaOf,
      calendar,
      { onDuty: 'community' },
      context,
      evening,
    );

    expect(found.rostered).toBe(true);
    expect(found.people.map((p) => p.personId)).toEqual(['p-zhang', 'p-liu']);
    expect(found.people.every((p) => p.unitId === 'community')).toBe(true);
  });

  it('when a rostered person is away, then their stand-in is on duty for them', () => {
    const found = selectOnDuty(
      tree,
      new Availability([away('p-zhang', 'p-wang')], []),
      rotaOf,
      calendar,
      { onDuty: 'community' },
      context,
      evening,
    );

    expect(found.people.map((p) => [p.personId, p.standingInFor])).toEqual([
      ['p-wang', 'p-zhang'],
      ['p-liu', undefined],
    ]);
  });

  it('when nobody is rostered and a role is given, then that post’s holders answer, 兜底 upwards', () => {
    const found = selectOnDuty(
      tree,
      new Availability([away('p-li')], []),
      rotaOf,
      calendar,
      { onDuty: 'community', role: 'secretary' },
      context,
      NOW,
    );

    expect(found.rostered).toBe(false);
    expect(found.people).toEqual([{ personId: 'p-chief', unitId: 'street' }]);
    expect(found.fellBack).toBe(true);
  });

  it('when nobody is rostered and no role is given, then every post holder of the unit answers', () => {
    const found = selectOnDuty(
      tree,
      new Availability([], []),
      rotaOf,
      calendar,
      { onDuty: 'grid' },
      context,
      evening,
    );

    expect(found.rostered).toBe(false);
    expect(found.people.map((p) => p.personId)).toEqual(['p-wang', 'p-zhang']);
  });
});
