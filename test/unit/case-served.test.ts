import type { Candidate, TaskSnapshot } from '../../common/case';
import { ServedTracker, servedByOfStored } from '../../common/case-served';

type Seen = Pick<TaskSnapshot, 'id' | 'stepId' | 'kind' | 'status' | 'assignee' | 'claimants'>;

const dispatcher: Candidate = { personId: 'p-disp', userId: 'u-disp', unitId: 'community' };
const member: Candidate = { personId: 'p-member', userId: 'u-member', unitId: 'co-building' };
const other: Candidate = { personId: 'p-other', userId: 'u-other', unitId: 'property' };

function task(id: string, stepId: string, change: Partial<Seen>): Seen {
  return { id, stepId, kind: 'task', status: 'open', assignee: null, claimants: [], ...change };
}

describe('who served a case', () => {
  it('when the acceptance step is declared, then the dispatcher who handled an earlier step does not count and the party member who claimed 接单 does', () => {
    // Arrange
    const served = new ServedTracker(['accept']);

    // Act
    served.observe(task('t1', 'dispatch', { status: 'completed', assignee: dispatcher }));
    served.observe(task('t2', 'accept', { status: 'open' }));
    served.observe(task('t2', 'accept', { status: 'claimed', assignee: member }));

    // Assert
    expect(served.take()).toEqual({ unitIds: ['co-building'], personIds: ['p-member'] });
  });

  it('when nothing is declared, then the first task anybody took on names who served and later tasks do not', () => {
    // Arrange
    const served = new ServedTracker(undefined);

    // Act
    served.observe(task('t1', 'intake', { status: 'open' }));
    served.observe(task('t1', 'intake', { status: 'completed', assignee: dispatcher }));
    served.observe(task('t2', 'handle', { status: 'completed', assignee: member }));

    // Assert
    expect(served.view()).toEqual({ unitIds: ['community'], personIds: ['p-disp'] });
  });

  it('when the holder releases the task and another person claims it, then only the second one served', () => {
    // Arrange
    const served = new ServedTracker(['accept']);
    served.observe(task('t1', 'accept', { status: 'claimed', assignee: member }));

    // Act
    served.observe(task('t1', 'accept', { status: 'open' }));
    served.observe(task('t1', 'accept', { status: 'completed', assignee: other }));

    // Assert
    expect(served.view()).toEqual({ unitIds: ['property'], personIds: ['p-other'] });
  });

  it('when a claim pool is claimed by two people of two units, then both units and both people served', () => {
    // Arrange
    const served = new ServedTracker(['pool']);

    // Act
    served.observe({
      ...task('t1', 'pool', { status: 'completed', claimants: [member, other] }),
      kind: 'claim',
    });

    // Assert
    expect(served.view()).toEqual({
      unitIds: ['co-building', 'property'],
      personIds: ['p-member', 'p-other'],
    });
  });

  it('when a supervision slip on the acceptance step is answered, then it does not count as serving', () => {
    // Arrange
    const served = new ServedTracker(undefined);

    // Act
    served.observe({
      ...task('s1', 'accept', { status: 'completed', assignee: dispatcher }),
      kind: 'supervision',
    });

    // Assert
    expect(served.take()).toBeNull();
  });

  it('when nothing changed since the last take, then take answers null so the write leaves servedBy out', () => {
    // Arrange
    const served = new ServedTracker(['accept']);
    served.observe(task('t1', 'accept', { status: 'claimed', assignee: member }));
    served.take();

    // Act
    served.observe(task('t1', 'accept', { status: 'completed', assignee: member }));

    // Assert
    expect(served.take()).toBeNull();
  });

  it('when a run continues as new, then the restored state answers the same holders', () => {
    // Arrange
    const first = new ServedTracker(['accept']);
    first.observe(task('t1', 'accept', { status: 'completed', assignee: member }));
    const next = new ServedTracker(['accept']);

    // Act
    next.restore(JSON.parse(JSON.stringify(first.state())));

    // Assert
    expect(next.view()).toEqual(first.view());
  });
});

describe('who served a stored case (the backfill)', () => {
  it('when nothing is declared and the later-opened task was taken on first, then the timeline’s order decides, as the live tracker saw it', () => {
    // Arrange: t1 opened first but t2 was claimed first (parallel branches)
    const tasks = [
      task('t1', 'left', { status: 'completed', assignee: dispatcher }),
      task('t2', 'right', { status: 'completed', assignee: member }),
    ];
    const timeline = [
      { type: 'task.opened' as const, detail: { task: 't1' } },
      { type: 'task.opened' as const, detail: { task: 't2' } },
      { type: 'task.claimed' as const, detail: { task: 't2' } },
      { type: 'task.claimed' as const, detail: { task: 't1' } },
    ];

    // Act
    const served = servedByOfStored(undefined, timeline, tasks);

    // Assert
    expect(served).toEqual({ unitIds: ['co-building'], personIds: ['p-member'] });
  });

  it('when the acceptance step is declared, then only its tasks count, whatever the order, and supervision slips never', () => {
    // Arrange
    const tasks = [
      task('t1', 'dispatch', { status: 'completed', assignee: dispatcher }),
      task('t2', 'accept', { status: 'completed', assignee: member }),
      task('t3', 'accept', { kind: 'supervision', status: 'completed', assignee: other }),
    ];

    // Act
    const served = servedByOfStored(['accept'], [], tasks);

    // Assert
    expect(served).toEqual({ unitIds: ['co-building'], personIds: ['p-member'] });
  });

  it('when nobody took a task on, then nobody served', () => {
    expect(servedByOfStored(undefined, [], [task('t1', 'serve', { status: 'cancelled' })])).toEqual(
      { unitIds: [], personIds: [] },
    );
  });
});
