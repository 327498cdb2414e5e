import fc from 'fast-check';
import { loadShippedCalendarYears } from '../../calendars';
import type { ClockPause, DeadlinePolicy } from '../../common/sla';
import { planDeadline } from '../../common/sla';
import { deadlineViewOf } from '../../common/case';
import {
  createWorkingCalendar,
  isValidDeadline,
  isWorkingMoment,
} from '../../common/working-calendar';
import { deadlineInstant } from '../../workflows/clocks';
import { beijingText, bj } from '../support/beijing';

/**
 * SLA plans on the shipped calendar. 国庆 2025: 10-01 … 10-08 off, Sunday 09-28 and Saturday
 * 10-11 are 调休 make-up working days.
 */
const calendar = createWorkingCalendar(loadShippedCalendarYears());

function policy(
  within: string,
  extra: Partial<Pick<DeadlinePolicy, 'reminders' | 'escalations'>> = {},
): DeadlinePolicy {
  return { within, reminders: extra.reminders ?? [], escalations: extra.escalations ?? [] };
}

function pause(from: string, to?: string): ClockPause {
  return {
    from: bj(from).toISOString(),
    ...(to !== undefined ? { to: bj(to).toISOString() } : {}),
  };
}

function dueText(within: string, startedAt: string, pauses: ClockPause[] = []): string | null {
  const { dueAt } = planDeadline(calendar, policy(within), bj(startedAt).toISOString(), pauses);
  return dueAt === null ? null : beijingText(dueAt);
}

describe('a deadline across 国庆 2025', () => {
  it('when 3 working days start on 09-30 at 10:00, then the deadline is the make-up Saturday 10-11 at 10:00', () => {
    // Arrange: 10-01 … 10-08 are off; 10-09 (Thu) and 10-10 (Fri) are days 1 and 2.
    // Act
    const due = dueText('3 working days', '2025-09-30 10:00');
    // Assert
    expect(due).toBe('2025-10-11 10:00');
  });

  it('when a case starts on the make-up Sunday 09-28, then that Sunday is the first day counted from', () => {
    expect(dueText('2 working days', '2025-09-28 16:00')).toBe('2025-09-30 16:00');
    expect(dueText('3 working days', '2025-09-28 16:00')).toBe('2025-10-09 16:00');
  });

  it('when a case arrives during the holiday, then counting starts at the first opening after it', () => {
    expect(dueText('1 working day', '2025-10-03 10:00')).toBe('2025-10-10 09:00');
  });

  it('when 8 working hours start at 16:00 on 09-30, then 1.5 hours are worked that day and the rest on 10-09', () => {
    expect(dueText('8 working hours', '2025-09-30 16:00')).toBe('2025-10-09 17:00');
  });

  it('when the clock counts calendar time, then the holiday is not skipped', () => {
    expect(dueText('P3D', '2025-09-30 10:00')).toBe('2025-10-03 10:00');
  });

  it('when the deadline has reminders and an escalation ladder, then reminders count calendar time back and levels count from the deadline', () => {
    // Arrange
    const ladder = policy('3 working days', {
      reminders: [{ before: 'P1D' }, { before: 'PT1H' }],
      escalations: [{}, { after: 'PT4H' }, { after: '1 working day' }, { after: '2 working days' }],
    });
    // Act
    const plan = planDeadline(calendar, ladder, bj('2025-09-30 10:00').toISOString());
    // Assert
    expect(beijingText(plan.dueAt!)).toBe('2025-10-11 10:00');
    expect(plan.reminders.map((r) => [r.index, beijingText(r.at)])).toEqual([
      [0, '2025-10-10 10:00'],
      [1, '2025-10-11 09:00'],
    ]);
    // Level 3 skips Sunday 10-12; level 1 is the deadline itself.
    expect(plan.escalations.map((e) => [e.level, beijingText(e.at)])).toEqual([
      [1, '2025-10-11 10:00'],
      [2, '2025-10-11 14:00'],
      [3, '2025-10-13 10:00'],
      [4, '2025-10-14 10:00'],
    ]);
    expect(plan.assumedYears).toEqual([]);
  });

  it('when reminders are written in working time, then they count working time back from the deadline, skipping the holiday', () => {
    // Arrange: due on the make-up Saturday 10-11 at 10:00 (3 working days from 09-30 10:00)
    const ladder = policy('3 working days', {
      reminders: [{ before: '1 working day' }, { before: '2 working hours' }],
    });
    // Act
    const plan = planDeadline(calendar, ladder, bj('2025-09-30 10:00').toISOString());
    // Assert: the working day before 10-11 is 10-10; two working hours before 10:00 reach back
    // over the night into 10-10's afternoon (16:30–17:30) and its close
    expect(plan.reminders.map((r) => [r.index, beijingText(r.at)])).toEqual([
      [0, '2025-10-10 10:00'],
      [1, '2025-10-10 16:30'],
    ]);
  });

  it('when a ladder runs into a year the calendar lacks, then the plan says which year was assumed', () => {
    const plan = planDeadline(
      calendar,
      policy('2 working days', { escalations: [{ after: '5 working days' }] }),
      bj('2026-12-24 10:00').toISOString(),
    );
    expect(beijingText(plan.dueAt!)).toBe('2026-12-28 10:00');
    expect(beijingText(plan.escalations[0]!.at)).toBe('2027-01-04 10:00');
    expect(plan.assumedYears).toEqual([2027]);
  });
});

describe('the deadline view', () => {
  const clock = {
    key: 'case/due',
    name: '办结时限',
    paused: false,
    missed: false,
    stopped: false,
    escalationLevel: 0,
  };

  it('when the plan assumed a year the calendar lacks, then the view carries assumedYears', () => {
    // Arrange
    const plan = planDeadline(
      calendar,
      policy('5 working days'),
      bj('2026-12-28 10:00').toISOString(),
    );

    // Act
    const view = deadlineViewOf({ ...clock, plan });

    // Assert
    expect(view).toEqual({ ...clock, dueAt: plan.dueAt, assumedYears: [2027] });
  });

  it('when the calendar had every year, or there is no plan yet, then the view has no assumedYears', () => {
    const plan = planDeadline(
      calendar,
      policy('5 working days'),
      bj('2026-03-02 10:00').toISOString(),
    );
    expect(deadlineViewOf({ ...clock, plan })).not.toHaveProperty('assumedYears');
    expect(deadlineViewOf({ ...clock, plan: null })).toEqual({ ...clock, dueAt: null });
  });
});

describe('pauses', () => {
  it('when a working clock is paused and resumed, then the working time left is recomputed from the resumption, not restarted', () => {
    // Arrange: due 10-11 10:00; paused on 10-10 10:00–15:00 with 7 working hours (420 min) left.
    const pauses = [pause('2025-10-10 10:00', '2025-10-10 15:00')];
    // Act
    const due = dueText('3 working days', '2025-09-30 10:00', pauses);
    // Assert: 15:00–17:30 (150), 10-11 09:00–12:00 (180), then 90 more from 13:30. A restart
    // would have given 3 working days from 10-10 15:00, i.e. 10-15 15:00.
    expect(due).toBe('2025-10-11 15:00');
  });

  it('when a working clock is paused over a night before the holiday, then only the working time paused is added', () => {
    // Due 09-30 17:00; paused 09-29 17:00 → 09-30 09:30, i.e. 60 working minutes.
    expect(dueText('8 working hours', '2025-09-29 16:00')).toBe('2025-09-30 17:00');
    const pauses = [pause('2025-09-29 17:00', '2025-09-30 09:30')];
    expect(dueText('8 working hours', '2025-09-29 16:00', pauses)).toBe('2025-10-09 09:30');
  });

  it('when a pause lies inside the holiday, then a working clock does not move but a calendar clock does', () => {
    const pauses = [pause('2025-10-02 10:00', '2025-10-05 10:00')];
    expect(dueText('3 working days', '2025-09-30 10:00', pauses)).toBe('2025-10-11 10:00');
    expect(dueText('P10D', '2025-09-30 10:00')).toBe('2025-10-10 10:00');
    expect(dueText('P10D', '2025-09-30 10:00', pauses)).toBe('2025-10-13 10:00');
  });

  it('when a calendar clock is paused twice, then both pauses are added', () => {
    const pauses = [
      pause('2025-10-01 12:00', '2025-10-01 13:00'),
      pause('2025-10-01 11:00', '2025-10-01 11:30'),
    ];
    expect(dueText('PT4H', '2025-10-01 10:00', pauses)).toBe('2025-10-01 15:30');
  });

  it('when the clock is still paused, then nothing is due and nothing is planned', () => {
    const plan = planDeadline(
      calendar,
      policy('3 working days', { reminders: [{ before: 'PT1H' }], escalations: [{}] }),
      bj('2025-09-30 10:00').toISOString(),
      [pause('2025-09-30 11:00')],
    );
    expect(plan).toEqual({ dueAt: null, reminders: [], escalations: [], assumedYears: [] });
  });

  it('when a pause starts after the deadline, then the deadline itself does not move', () => {
    const pauses = [pause('2025-10-11 10:30', '2025-10-13 10:00')];
    expect(dueText('3 working days', '2025-09-30 10:00', pauses)).toBe('2025-10-11 10:00');
  });

  it('when the clock is paused after the deadline was missed, then the levels still to come move by the time paused, each in its own kind of time', () => {
    // Arrange: due 10-11 10:00 (the make-up Saturday); level 2 four calendar hours later, level 3
    // one working day later (Monday 10-13 10:00). Paused 11:00–16:00: 5 hours, of which 210
    // working minutes (11:00–12:00, 13:30–16:00).
    const ladder = policy('3 working days', {
      reminders: [{ before: 'PT1H' }],
      escalations: [{}, { after: 'PT4H' }, { after: '1 working day' }],
    });
    const startedAt = bj('2025-09-30 10:00').toISOString();
    const pauses = [pause('2025-10-11 11:00', '2025-10-11 16:00')];
    // Act
    const plan = planDeadline(calendar, ladder, startedAt, pauses);
    // Assert: the deadline, its reminder and level 1 were behind the pause and stay; level 2
    // moves by 5 hours; level 3 by 210 working minutes (90 on Saturday, 270 from Monday 09:00).
    expect(beijingText(plan.dueAt!)).toBe('2025-10-11 10:00');
    expect(plan.reminders.map((r) => beijingText(r.at))).toEqual(['2025-10-11 09:00']);
    expect(plan.escalations.map((e) => [e.level, beijingText(e.at)])).toEqual([
      [1, '2025-10-11 10:00'],
      [2, '2025-10-11 19:00'],
      [3, '2025-10-13 15:00'],
    ]);
    // Unpaused, levels 2 and 3 were at 14:00 and Monday 10:00.
    expect(planDeadline(calendar, ladder, startedAt).escalations.map((e) => e.at)).toEqual([
      bj('2025-10-11 10:00').toISOString(),
      bj('2025-10-11 14:00').toISOString(),
      bj('2025-10-13 10:00').toISOString(),
    ]);
  });

  it('when the clock is still paused after the deadline was missed, then nothing more is planned until it resumes', () => {
    const plan = planDeadline(
      calendar,
      policy('3 working days', { escalations: [{}, { after: 'PT4H' }] }),
      bj('2025-09-30 10:00').toISOString(),
      [pause('2025-10-11 11:00')],
    );
    expect(plan).toEqual({ dueAt: null, reminders: [], escalations: [], assumedYears: [] });
  });

  it('when a working-days deadline falls at an opening time, then a pause keeps it at an opening, not at the close before', () => {
    // Arrange: received on 10-10 at 20:00, so 1 working day counts from 10-11 09:00.
    expect(dueText('1 working day', '2025-10-10 20:00')).toBe('2025-10-13 09:00');
    // Act: paused for no time, and for an hour of the evening (no working time either way).
    const zero = dueText('1 working day', '2025-10-10 20:00', [
      pause('2025-10-11 10:00', '2025-10-11 10:00'),
    ]);
    const evening = dueText('1 working day', '2025-10-10 20:00', [
      pause('2025-10-11 18:00', '2025-10-11 19:00'),
    ]);
    // Assert: not 10-11 17:30, which is the same working time but hours earlier.
    expect(zero).toBe('2025-10-13 09:00');
    expect(evening).toBe('2025-10-13 09:00');
  });

  it('when instants carry seconds and milliseconds, then the resumed deadline keeps them', () => {
    // Arrange: workflow clocks read real instants; the working time left is not whole minutes.
    const startedAt = '2025-09-30T02:00:00.500Z'; // 10:00:00.500 Beijing
    const pauses = [{ from: '2025-10-10T02:00:20.250Z', to: '2025-10-10T07:00:20.250Z' }];
    // Act
    const plan = planDeadline(calendar, policy('3 working days'), startedAt, pauses);
    // Assert: as with whole minutes (10-11 15:00), half a second after.
    expect(plan.dueAt).toBe('2025-10-11T07:00:00.500Z');
  });
});

describe('properties over 2024–2026, holidays and make-up days included', () => {
  const instant = fc
    .integer({ min: bj('2024-01-01 00:00').getTime(), max: bj('2026-11-30 00:00').getTime() })
    .map((ms) => new Date(ms));
  const workingWithin = fc.oneof(
    fc.integer({ min: 1, max: 30 }).map((n) => `${n} working days`),
    fc.integer({ min: 1, max: 60 }).map((n) => `${n} working hours`),
    fc.integer({ min: 1, max: 3000 }).map((n) => `${n} working minutes`),
  );
  const within = fc.oneof(
    workingWithin,
    fc.integer({ min: 1, max: 10_000 }).map((n) => `PT${n}M`),
  );
  /** A closed pause some time after the start: offset and length in milliseconds. */
  const pauseSpan = fc.record({
    offset: fc.integer({ min: 0, max: 20 * 86_400_000 }),
    length: fc.integer({ min: 0, max: 10 * 86_400_000 }),
  });
  const pauseOf = (start: Date, span: { offset: number; length: number }): ClockPause => ({
    from: new Date(start.getTime() + span.offset).toISOString(),
    to: new Date(start.getTime() + span.offset + span.length).toISOString(),
  });
  const dueOf = (w: string, start: Date, pauses: ClockPause[] = []) =>
    Date.parse(planDeadline(calendar, policy(w), start.toISOString(), pauses).dueAt!);

  it('is monotonic in `within`', () => {
    const amounts = fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }));
    const unit = fc.constantFrom('working days', 'working hours', 'working minutes', 'hours');
    fc.assert(
      fc.property(instant, amounts, unit, (start, [a, b], u) => {
        const [few, many] = a <= b ? [a, b] : [b, a];
        const text = (n: number) => (u === 'hours' ? `PT${n}H` : `${n} ${u}`);
        expect(dueOf(text(few), start)).toBeLessThanOrEqual(dueOf(text(many), start));
      }),
    );
  });

  it('never lands on a non-working moment for working durations, paused or not', () => {
    fc.assert(
      fc.property(instant, workingWithin, pauseSpan, (start, w, span) => {
        // Working hours may end at a closing time ("by 17:30"); working days end at a working moment.
        const valid = w.endsWith('days') ? isWorkingMoment : isValidDeadline;
        expect(valid(calendar, new Date(dueOf(w, start)))).toBe(true);
        expect(valid(calendar, new Date(dueOf(w, start, [pauseOf(start, span)])))).toBe(true);
      }),
    );
  });

  it('never moves a deadline earlier for a pause', () => {
    fc.assert(
      fc.property(instant, within, pauseSpan, (start, w, span) => {
        expect(dueOf(w, start, [pauseOf(start, span)])).toBeGreaterThanOrEqual(dueOf(w, start));
      }),
    );
  });

  it('never moves an escalation level earlier for a pause, before or after the deadline', () => {
    const ladder = (w: string) =>
      policy(w, { escalations: [{}, { after: 'PT3H' }, { after: '2 working days' }] });
    const levelsOf = (w: string, start: Date, pauses: ClockPause[] = []) =>
      planDeadline(calendar, ladder(w), start.toISOString(), pauses).escalations.map((e) =>
        Date.parse(e.at),
      );
    fc.assert(
      fc.property(instant, within, pauseSpan, (start, w, span) => {
        const paused = levelsOf(w, start, [pauseOf(start, span)]);
        levelsOf(w, start).forEach((at, i) => expect(paused[i]).toBeGreaterThanOrEqual(at));
      }),
    );
  });

  it('changes nothing for a pause of zero length', () => {
    const withMs = instant.chain((start) =>
      fc.integer({ min: 0, max: 999 }).map((ms) => new Date(start.getTime() + ms)),
    );
    fc.assert(
      fc.property(withMs, within, pauseSpan, (start, w, span) => {
        const ladder = policy(w, {
          reminders: [{ before: 'PT1H' }],
          escalations: [{}, { after: '1 working day' }],
        });
        const zero = pauseOf(start, { offset: span.offset, length: 0 });
        expect(planDeadline(calendar, ladder, start.toISOString(), [zero])).toEqual(
          planDeadline(calendar, ladder, start.toISOString()),
        );
      }),
    );
  });
});

describe('N working days after a date (a deadline `at` a date with `after`)', () => {
  /** What the engine does: the instant `at` gives, then `after` planned from it on the calendar. */
  const afterText = (at: string, after: string) =>
    beijingText(
      planDeadline(calendar, policy(after), new Date(deadlineInstant(at)!).toISOString()).dueAt!,
    );

  it('when 3 working days follow the date of a Monday, then they are Tue, Wed, Thu and the deadline is Friday at opening (Thursday ran out)', () => {
    expect(afterText('2025-12-15', '3 working days')).toBe('2025-12-19 09:00');
  });

  it('when 3 working days follow the date 09-29, then 国庆 is skipped and the make-up Saturday 10-11 is the third', () => {
    // 09-30 (1), holiday 10-01 … 10-08, 10-09 (2), 10-10 (3): due when 10-10 runs out, at the
    // opening of the make-up Saturday.
    expect(afterText('2025-09-29', '3 working days')).toBe('2025-10-11 09:00');
  });

  it('when 2 working days follow a meeting at 14:00 on a Tuesday, then the deadline is Thursday at 14:00', () => {
    expect(afterText('2025-12-16T14:00:00+08:00', '2 working days')).toBe('2025-12-18 14:00');
  });

  it('when a meeting is on a Friday evening, then counting starts at Monday’s opening', () => {
    expect(afterText('2025-12-19T19:00:00+08:00', '1 working day')).toBe('2025-12-23 09:00');
  });

  it('when the time after a date is calendar time, then the holiday is not skipped', () => {
    expect(afterText('2025-09-29', 'P3D')).toBe('2025-10-03 00:00');
  });
});
