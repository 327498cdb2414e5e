import { randomBytes } from 'node:crypto';
import type { CaseStateView } from '../../workflows/projection';
import type { SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  openedTask,
  stepsEntered,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 吹哨报到 processes (definitions/whistle-call.yaml and whistle-department.yaml): a
 * street calls several departments at once, each gets a case of its own with its own report-in
 * and completion deadlines, and a department that does not report in is escalated to its
 * director, then to the calling street's leader.
 */
let bed: SlaTestBed;
let org: SeededOrg;

useSlaTestBed('whistle', (ready) => {
  bed = ready;
});

beforeAll(async () => {
  org = await bed.seedOrg();
});

interface Department {
  id: string;
  officer: SeededPerson;
  director: SeededPerson;
}

/** A department under the org's street with an officer and a director, each with an account. */
async function department(label: string): Promise<Department> {
  const tag = randomBytes(3).toString('hex');
  const unit = await bed.addUnit(
    'department',
    `${label}${tag}`,
    org.street,
    `dept-${label}-${tag}`,
  );
  const staff = (role: string) => bed.addPerson(role, `${label}${role}`, [[unit, role]]);
  return { id: unit.id, officer: await staff('officer'), director: await staff('director') };
}

/** A street post for one of the org's people (the seeded org has no dispatcher or leader). */
function streetPost(person: SeededPerson, role: string): Promise<void> {
  return bed.addPost(person, org.street, role);
}

const whistle = {
  title: '占道经营',
  category: '环境治理',
  description: '路口早市占道，堵塞消防通道',
  location: '幸福路口',
};

describe('吹哨报到 (whistle-call → whistle-department)', () => {
  it('when two departments are called, then each reports in its own case, the street verifies and the reporter rates', async () => {
    // Arrange
    const call = await bed.shippedWith('whistle-call.yaml', 'whistle-department.yaml');
    const lead = await department('城管');
    const assist = await department('市场监管');
    await streetPost(org.streetDirector, 'dispatcher');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, call, org.street.id, {
        ...whistle,
        departments: [lead.id, assist.id],
      });
      const started = await kase.waitForEvents('subprocess.started', 2);
      const children = started.map((e) => bed.childCase(String(e.detail?.caseId)));
      for (const [child, dept] of [
        [children[0]!, lead],
        [children[1]!, assist],
      ] as const) {
        const report = child.taskId('report');
        await child.waitForTask('the department task', report, () => true);
        await child.claim(report, dept.officer);
        await child.complete(report, dept.officer, 'resolved', { result: '已清理占道摊点' });
      }
      const verify = kase.taskId('verify');
      await kase.waitForTask('the verification task', verify, () => true);
      await kase.claim(verify, org.streetDirector);
      await kase.complete(verify, org.streetDirector, 'pass', { finding: '现场已恢复通行' });
      await kase.waitForEvents('step.entered', 1, { stepType: 'feedback' });
      await kase.rate(4);
      const result = (await kase.handle.result()) as CaseStateView;
      const childDocs = await Promise.all(
        children.map((c) => bed.db.models.Case.findById(c.caseId).lean()),
      );
      return { result, doc: await kase.doc(), childDocs };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    const children = outcome.childDocs.map((d) => {
      const data = d?.data as { lead?: boolean } | undefined;
      return [d?.unitId, d?.status, data?.lead];
    });
    expect(children).toEqual([
      [lead.id, 'closed', true],
      [assist.id, 'closed', false],
    ]);
    expect(outcome.childDocs.every((d) => d?.parentCaseId !== null)).toBe(true);
    expect(eventsOf(outcome.doc.timeline, 'subprocess.ended')).toHaveLength(2);
  });

  it('when a department does not report in within 30 minutes, then its director is called, and 30 minutes later the street leader', async () => {
    // Arrange
    const call = await bed.shippedWith('whistle-call.yaml', 'whistle-department.yaml');
    const dept = await department('住建');
    await streetPost(org.streetSecretary, 'leader');

    // Act
    const escalated = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, call, org.street.id, {
        ...whistle,
        departments: [dept.id],
      });
      const [started] = await kase.waitForEvents('subprocess.started', 1);
      const child = bed.childCase(String(started!.detail?.caseId));
      const report = child.taskId('report');
      const task = await child.waitForTask('the department task', report, (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(task.openedAt.getTime() + 31 * 60_000);
      await child.waitForEvents('deadline.escalated', 1, { deadline: 'report_in', level: 1 });
      await bed.skipTo(task.openedAt.getTime() + 61 * 60_000);
      return child.waitForEvents('deadline.escalated', 2, { deadline: 'report_in' });
    });

    // Assert: level 1 in the department itself, level 2 in the calling street
    expect(escalated.map((e) => [e.detail?.level, e.detail?.unitId])).toEqual([
      [1, dept.id],
      [2, org.street.id],
    ]);
    const mails = await bed.db.models.Outbox.find({ template: 'task-escalated' }).lean();
    expect(mails.map((m) => m.to)).toEqual(
      expect.arrayContaining([dept.director.email, org.streetSecretary.email]),
    );
  });
});

describe('部门报到 answered 非本部门职责 (whistle-department)', () => {
  it('when a called department answers 非本部门职责, then the calling street centre arbitrates, the ruled department handles it, and the case counts as arbitrated', async () => {
    // Arrange
    const wrong = await department('urban');
    const right = await department('housing');
    const centre = await bed.addPerson('centre', '街道中心派单员', [[org.street, 'dispatcher']]);
    const process = await bed.shippedWith('whistle-department.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      const kase = await bed.startCase(queue, process, wrong.id, {
        title: whistle.title,
        description: whistle.description,
        location: whistle.location,
        lead: true,
        caller: org.community.id,
      });
      const report = await openedTask(kase, 'report');
      await claimAndComplete(
        kase,
        report.id,
        wrong.officer,
        'not_ours',
        { result: '占道维修不属城管' },
        '属住建职责',
      );
      const arbitrate = await openedTask(kase, 'arbitrate');
      await claimAndComplete(kase, arbitrate.id, centre, 'redispatch', {
        ruling: '裁定住建承办',
        department: right.id,
      });
      const ruled = await openedTask(kase, 'arbitrated_handle');
      await claimAndComplete(kase, ruled.id, right.officer, 'resolved', { result: '已处理' });
      const result = (await kase.handle.result()) as CaseStateView;
      return { result, arbitrate, ruled, doc: await kase.doc() };
    });

    // Assert
    expect(outcome.result.status).toBe('closed');
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'report',
      'arbitrate',
      'arbitrated_handle',
      'done',
    ]);
    // The street's dispatchers (the seeded one and the centre's): the caller's street, not the department's.
    expect(outcome.arbitrate.candidates.map((c) => c.personId)).toContain(centre.personId);
    expect(outcome.arbitrate.candidates.map((c) => c.unitId)).toEqual(
      outcome.arbitrate.candidates.map(() => org.street.id),
    );
    expect(outcome.ruled.candidates.map((c) => c.personId)).toEqual([right.officer.personId]);
    expect(eventsOf(outcome.doc.timeline, 'case.arbitrated')).toHaveLength(1);
    expect(
      (outcome.doc as unknown as { metrics: { arbitrated?: number } }).metrics.arbitrated,
    ).toBe(1);
  });
});
