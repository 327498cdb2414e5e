import { randomBytes } from 'node:crypto';
import { createActivities } from '../../activities';
import { createLogger } from '../../common/logger';
import { createMailRenderer } from '../../mail/renderer';
import { createSmtpTransport } from '../../mail/transport';
import { readOrgRevision } from '../../models/org-revision';
import { testStack } from '../support/test-stack';
import { figuresOf } from '../../services/metrics';
import { bj } from '../support/beijing';
import { flagsOf, replayedFlags, summedFlags } from '../support/case-figures';
import { uniqueAddress } from '../support/harness';
import type { RunningCase, SeededOrg, SeededPerson, SlaTestBed } from '../support/sla-cases';
import {
  claimAndComplete,
  eventsOf,
  expectFiredAt,
  mailsOf,
  mailsToAddress,
  plusDays,
  stepsEntered,
  SUBJECT,
  useSlaTestBed,
} from '../support/sla-cases';

/**
 * The shipped 志愿者注册登记 (definitions/volunteer-registration.yaml) on the time-skipping server
 * with the real activities: a resident applies, the community's dispatcher returns it for more
 * information, the applicant supplements it from their account and the dispatcher approves: the
 * `enrol` grant records the applicant as a new person of the org data with the community's
 * `volunteer` post, signing in with the account they filed from (ids only on the timeline);
 * the registration is then what the hours hang on: the next volunteer activity calls
 * the new volunteer, and the hours confirmed there go to their points ledger. Missed: a review not
 * done within 5 working days is reminded the day before and goes to the community's secretary.
 */
let bed: SlaTestBed;

useSlaTestBed('volunteer-registration', (ready) => {
  bed = ready;
});

interface RegistrationOrg extends SeededOrg {
  dispatcher: SeededPerson;
  compound: { id: string; name: string };
}

async function registrationOrg(): Promise<RegistrationOrg> {
  const org = await bed.seedOrg();
  return {
    ...org,
    dispatcher: await bed.addPerson('dispatcher', '社区派单员', [[org.community, 'dispatcher']]),
    compound: await bed.addUnit('compound', '惠民小区', org.grid),
  };
}

function application(org: RegistrationOrg, contactEmail?: string) {
  return {
    applicantName: '王秀英',
    // A phone of its own per application: the registration limit counts per phone (API starts).
    phone: `138${String(randomBytes(4).readUInt32BE() % 1e8).padStart(8, '0')}`,
    ...(contactEmail ? { contactEmail } : {}),
    skills: ['助老助残', '政策宣传'],
    availability: ['周末', '周五志愿服务日'],
    serviceArea: org.compound.id,
  };
}

/** A sign-in account (the users collection), as `POST /api/v1/users` records it. */
async function signInAccount(label: string, roles: string[]): Promise<string> {
  const id = `usr-${randomBytes(4).toString('hex')}-${label}`;
  await bed.db.models.User.create({
    _id: id,
    username: id,
    displayName: label,
    passwordHash: 'scrypt$not-used',
    roles,
    createdAt: new Date(),
  });
  return id;
}

describe('志愿者注册登记 (volunteer-registration)', () => {
  it('when an application is returned for more information, supplemented and approved, then approving records the applicant in the org data as the community’s volunteer (ids only on the timeline), the applicant is told and the next activity calls the new volunteer, whose hours go to their ledger', async () => {
    // Arrange
    const org = await registrationOrg();
    const applicantMail = uniqueAddress('applicant');
    const monday = await bed.quietMonday();
    const activityAt = `${plusDays(monday, 4)}T14:00:00+08:00`;
    const applied = application(org, applicantMail);
    const registration = bed.shipped('volunteer-registration.yaml');
    const activity = bed.shipped('volunteer-activity.yaml');
    // The applicant files from their own resident account
    const applicantAccount = await signInAccount('applicant', ['resident']);

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, registration, org.community.id, applied, {
        startedBy: { kind: 'user', id: applicantAccount, roles: ['resident'] },
      });
      const firstReview = kase.taskId('review');
      const reviewTask = await kase.waitForTask('审核', firstReview, () => true);
      await claimAndComplete(
        kase,
        firstReview,
        org.dispatcher,
        'more_info',
        { opinion: '请补充健康状况' },
        '缺少健康状况说明',
      );
      const supplement = kase.taskId('supplement');
      await kase.waitForTask('补充材料', supplement, () => true);
      // The applicant's own task: they filed from their account (requester: true)
      const applicant: SeededPerson = {
        personId: `user:${applicantAccount}`,
        userId: applicantAccount,
        name: '王秀英',
        email: applicantMail,
      };
      await claimAndComplete(kase, supplement, applicant, 'supplied', {
        details: '身体健康，可参加户外活动',
      });
      // Approving without naming anyone: the applicant is new to the org data
      const secondReview = kase.taskId('review', 2);
      await kase.waitForTask('再次审核', secondReview, () => true);
      await claimAndComplete(kase, secondReview, org.dispatcher, 'approved', {
        opinion: '材料齐全，同意注册',
      });
      const doc = await kase.waitForDoc('registered', (d) => d.status === 'closed');
      const [granted] = eventsOf(doc.timeline, 'org.granted');
      const volunteerId = String(granted!.detail!.personId);
      const person = await bed.db.models.Person.findById(volunteerId).lean();
      const posts = await bed.db.models.Post.find({ personId: volunteerId }).lean();
      const applicantMails = await mailsToAddress(applicantMail, '注册结果告知');
      // The grant linked the applicant's account: they sign up to activities with it at once,
      // no admin needed
      const volunteer: SeededPerson = {
        personId: volunteerId,
        userId: applicantAccount,
        name: '王秀英',
        email: applicantMail,
      };

      // The next activity of the community calls the volunteer; they serve 3 hours
      const next = await bed.startCase(queue, activity, org.community.id, {
        title: '周五志愿服务日：助老理发',
        description: '为独居老人上门理发。',
        activityAt,
        places: 1,
      });
      const signup = await next.waitForTask('报名', next.taskId('signup'), () => true);
      await next.acknowledge(next.taskId('signup'), volunteer);
      await bed.skipTo(Date.parse(activityAt) + 60_000);
      await next.waitForTask('签到', next.taskId('checkin'), () => true);
      await next.acknowledge(next.taskId('checkin'), volunteer);
      await next.waitForTask('确认服务时长', next.taskId('confirm'), () => true);
      await claimAndComplete(next, next.taskId('confirm'), org.dispatcher, 'held', {
        note: '上门理发 5 户',
        hours: 3,
      });
      await next.waitForDoc('the activity closed', (d) => d.status === 'closed');
      const ledger = await bed.db.models.PointsEntry.find({ personId: volunteerId }).lean();
      return {
        doc,
        reviewTask,
        applicantMails,
        granted,
        person,
        posts,
        phone: applied.phone,
        signup,
        volunteerId,
        ledger,
      };
    });

    // Assert: the community's dispatcher reviewed, twice around the supplement
    expect(outcome.reviewTask.candidates.map((c) => c.personId)).toEqual([org.dispatcher.personId]);
    expect(stepsEntered(outcome.doc.timeline)).toEqual([
      'review',
      'supplement',
      'review',
      'enrol',
      'welcome',
      'registered',
    ]);
    // …approving made the volunteer: a new person from the application, the community's post
    expect(outcome.person).toMatchObject({
      name: '王秀英',
      email: applicantMail,
      userId: applicantAccount,
    });
    expect(outcome.posts.map((p) => [p.unitId, p.role])).toEqual([[org.community.id, 'volunteer']]);
    // …said on the timeline by ids only: no name, phone or address
    expect(outcome.granted!.detail).toEqual({
      post: 'volunteer',
      unitId: org.community.id,
      personId: outcome.volunteerId,
      created: true,
      alreadyHeld: false,
      account: 'linked',
    });
    const timelineText = JSON.stringify(outcome.doc.timeline);
    expect(timelineText).not.toContain('王秀英');
    expect(timelineText).not.toContain(outcome.phone);
    // …and the applicant (the new volunteer, the same address) was told
    expect(outcome.applicantMails.length).toBeGreaterThanOrEqual(1);
    // …and the registration is what the hours hang on: called to the activity, 3 hours earned
    expect(outcome.signup.candidates.map((c) => c.personId)).toContain(outcome.volunteerId);
    expect(outcome.ledger.map((e) => [e.delta, e.reason, e.unitId])).toEqual([
      [3, '志愿服务时长', org.community.id],
    ]);
  });

  it('when the dispatcher does not review within 5 working days, then the dispatcher is reminded a working day before and the community’s secretary is told at the deadline', async () => {
    // Arrange
    const org = await registrationOrg();
    const monday = await bed.quietMonday();
    const registration = bed.shipped('volunteer-registration.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(bj(`${monday} 09:30`));
      const kase = await bed.startCase(queue, registration, org.community.id, application(org));
      const review = await kase.waitForTask('审核', kase.taskId('review'), (t) =>
        t.deadlines.every((d) => d.dueAt !== null),
      );
      await bed.skipTo(review.dueAt!.getTime() + 60_000);
      const [escalated] = await kase.waitForEvents('deadline.escalated', 1, {
        deadline: 'review_5d',
      });
      return { review, escalated, doc: await kase.doc() };
    });

    // Assert: due the next Monday 09:30 (5 working days), reminded the Friday before
    expectFiredAt(outcome.review.dueAt!, bj(`${plusDays(monday, 7)} 09:30`).getTime());
    const [reminded] = eventsOf(outcome.doc.timeline, 'deadline.reminded', {
      deadline: 'review_5d',
    });
    expectFiredAt(reminded!.at, bj(`${plusDays(monday, 4)} 09:30`).getTime());
    expect(await mailsOf(org.dispatcher, SUBJECT.reminder)).toHaveLength(1);
    // …then the community's secretary at the deadline
    expectFiredAt(outcome.escalated!.at, outcome.review.dueAt!.getTime());
    expect(outcome.escalated!.detail?.unitId).toBe(org.community.id);
    expect(await mailsOf(org.communitySecretary, SUBJECT.escalated)).toHaveLength(1);
  });
});

describe('志愿者注册登记 measures (接单率, 办结率, 按期办结率, 督办率…)', () => {
  it('when known applications run (approved at once, approved after a supplement past review_5d, refused, withdrawn, never reviewed), then every declared rate comes out exactly, on the read model and after a replay', async () => {
    // Arrange
    const org = await registrationOrg();
    const volunteer = await bed.addPerson('volunteer', '新志愿者', [[org.community, 'volunteer']]);
    const monday = await bed.quietMonday();
    const mondayAt = bj(`${monday} 09:30`).getTime();
    const definition = bed.shipped('volunteer-registration.yaml');

    // Act
    const outcome = await bed.withWorker(async (queue) => {
      await bed.skipTo(mondayAt);
      const start = () => bed.startCase(queue, definition, org.community.id, application(org));
      const act = async (
        kase: RunningCase,
        step: string,
        outcome: string,
        form: Record<string, unknown>,
        options: { visit?: number; comment?: string } = {},
      ) => {
        const taskId = kase.taskId(step, options.visit);
        await kase.waitForTask(step, taskId, () => true);
        await claimAndComplete(kase, taskId, org.dispatcher, outcome, form, options.comment);
      };
      const approve = (kase: RunningCase, visit = 1) =>
        act(
          kase,
          'review',
          'approved',
          { opinion: '同意', volunteer: volunteer.personId },
          { visit },
        );
      const returnIt = (kase: RunningCase) =>
        act(kase, 'review', 'more_info', { opinion: '材料不全' }, { comment: '请补充' });
      const planned = (kase: RunningCase, step: string, visit = 1) =>
        kase.waitForTask(step, kase.taskId(step, visit), (t) =>
          t.deadlines.every((d) => d.dueAt !== null),
        );
      const closed = (kase: RunningCase) =>
        kase.waitForDoc('the case closed', (d) => d.status !== 'open');

      // 1. approved at once
      const approved = await start();
      await approve(approved);
      // 2. returned, supplemented at once, then the second review left past its review_5d
      const lateApproval = await start();
      await returnIt(lateApproval);
      await act(lateApproval, 'supplement', 'supplied', { details: '已补充' });
      await planned(lateApproval, 'review', 2);
      // 3. refused
      const refused = await start();
      await act(refused, 'review', 'refused', { opinion: '非本社区居民' }, { comment: '非本社区' });
      // 4. returned, then withdrawn by the applicant
      const withdrawn = await start();
      await returnIt(withdrawn);
      await act(
        withdrawn,
        'supplement',
        'withdrawn',
        { details: '申请人不再申请' },
        { comment: '撤回' },
      );
      // 5. never reviewed
      const unreviewed = await start();
      await planned(unreviewed, 'review');

      // The next Monday: 5 working days have passed for 2 and 5
      await bed.skipTo(mondayAt + 7 * 24 * 3600_000 + 3600_000);
      await lateApproval.waitForEvents('deadline.escalated', 1, { deadline: 'review_5d' });
      await unreviewed.waitForEvents('deadline.escalated', 1, { deadline: 'review_5d' });
      await approve(lateApproval, 2);
      const docs = [
        await closed(approved),
        await closed(lateApproval),
        await closed(refused),
        await closed(withdrawn),
        await unreviewed.doc(),
      ];
      return { docs, cases: [approved, lateApproval, refused, withdrawn, unreviewed] };
    });

    // Assert: the flags each application carries
    const metrics = outcome.docs.map(flagsOf);
    expect(outcome.docs.map((d) => d.status)).toEqual([
      'closed',
      'closed',
      'rejected',
      'cancelled',
      'open',
    ]);
    // The review is the acceptance: the refused one keeps only received, excluded and rejected
    expect(metrics.map((m) => [m.excluded, m.dispatched, m.accepted, m.respondedInTime])).toEqual([
      [0, 1, 1, 1],
      [0, 1, 1, 1],
      [1, 0, 0, 0],
      [0, 1, 1, 1],
      [0, 1, 0, 0],
    ]);
    // review_5d is the 办结时限: the late second review makes the approval late; the withdrawn
    // one ended within its limits, so it is in no 办结率 denominator
    expect(
      metrics.map((m) => [m.due, m.completed, m.resolved, m.explained, m.completedOnTime]),
    ).toEqual([
      [1, 1, 1, 0, 1],
      [1, 1, 1, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [1, 0, 0, 0, 0],
    ]);
    expect(metrics.map((m) => [m.ratingInvited, m.rated, m.escalated, m.overdue])).toEqual([
      [0, 0, 0, 0],
      [0, 0, 1, 1],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 1, 1],
    ]);
    // The rates, summed as the metrics service sums them
    expect(figuresOf(summedFlags(metrics)).rates).toEqual({
      acceptanceRate: 0.75, // 3 taken up of 4 dispatched (the refused one is out)
      responseRate: 0.75, // the same 3, each first review taken up before review_5d
      completionRate: 0.6667, // 2 approved of 3 due
      resolutionRate: 0.6667, // no 解释说明 outcome: the 2 approved are resolved
      onTimeRate: 0.5, // 1 of 2 approved within review_5d
      satisfactionRate: null, // no feedback step
      participationRate: null,
      visitRate: 0, // 0 rated of 2 completed: unreachable without a feedback step
      disputeResolutionRate: null,
      supervisionRate: 0.5, // 2 escalated to the secretary of 4 dispatched
      returnRate: 0, // 退回补充材料 is an outcome, not a task sent back
      overdueRate: 0.5, // 2 past review_5d of 4 (received less refused)
    });
    // After a replay: each history replays, and its timeline gives the stored figures again
    for (const [i, kase] of outcome.cases.entries()) {
      expect(await replayedFlags(bed, kase, definition.spec.measures)).toEqual(metrics[i]);
    }
  });
});

describe('the grant activity (登记到组织架构) behind the enrol step', () => {
  it('when the grant runs again (a retry), then one person and one post are recorded, the org revision advanced, and an unknown unit or person is refused by name', async () => {
    // Arrange
    const org = await registrationOrg();
    const activities = createActivities({
      models: bed.db.models,
      mail: {
        transport: createSmtpTransport(testStack().env.SMTP_URL),
        renderer: createMailRenderer(),
        from: 'test <noreply@governance.local>',
      },
      clock: () => new Date(),
      logger: createLogger('test', 'silent'),
    });
    const caseId = `case-${randomBytes(6).toString('hex')}`;
    const request = {
      caseId,
      stepId: 'enrol',
      post: 'volunteer',
      unit: 'case' as const,
      caseUnitId: org.community.id,
      data: {},
      personId: null,
      newPerson: { name: '李桂兰', phone: '13800001111', email: null },
    };
    const revisionBefore = await readOrgRevision(bed.db.models);

    // Act
    const first = await activities.grantPost(request);
    const revisionAfter = await readOrgRevision(bed.db.models);
    const retried = await activities.grantPost(request);
    const noUnit = await activities.grantPost({ ...request, caseUnitId: 'no-such-unit' });
    const noPerson = await activities.grantPost({ ...request, personId: 'p-nobody' });
    const badPhone = await activities.grantPost({
      ...request,
      stepId: 'enrol-2',
      newPerson: { name: '李桂兰', phone: 'not a phone', email: null },
    });

    // Assert: one person, one post, the second attempt finds them
    expect(first).toMatchObject({ refused: null, created: true, alreadyHeld: false });
    expect(retried).toEqual({ ...first, created: false, alreadyHeld: true });
    const personId = first.refused === null ? first.personId : '';
    expect(await bed.db.models.Person.countDocuments({ _id: personId })).toBe(1);
    expect(
      (await bed.db.models.Post.find({ personId }).lean()).map((p) => [p.unitId, p.role]),
    ).toEqual([[org.community.id, 'volunteer']]);
    expect(revisionAfter).toBeGreaterThan(revisionBefore);
    // …and the refusals say what, never the value
    expect(noUnit.refused).toBe('unit');
    expect(noPerson).toEqual({ refused: 'person', detail: 'no person "p-nobody" in the org data' });
    expect(badPhone).toEqual({ refused: 'new-person', detail: 'newPerson: unusable phone' });
  });

  it('when residents’ filings are granted with their accounts, then each person signs in with the filer’s account, a second filing grants the same person, and a link that would take an account or give a second one is refused and said', async () => {
    // Arrange: two communities; a resident without a person yet, one whose account is gone, a
    // person of the org data with an account of their own and one without
    const org = await registrationOrg();
    const other = await bed.addUnit('community', '东关社区', org.street);
    const activities = bed.activities();
    const resident = await signInAccount('resident', ['resident']);
    const another = await signInAccount('another', ['resident']);
    const withAccount = await bed.addPerson('with-account', '张有号');
    const { Person, Post } = bed.db.models;
    const withoutAccount = `p-${randomBytes(4).toString('hex')}-no-account`;
    const unlinked = `p-${randomBytes(4).toString('hex')}-unlinked`;
    await Person.create([
      { _id: withoutAccount, name: '李无号', updatedAt: new Date() },
      { _id: unlinked, name: '赵无号', updatedAt: new Date() },
    ]);
    const filing = (caseUnitId: string, userId: string | null, personId: string | null = null) => ({
      caseId: `case-${randomBytes(6).toString('hex')}`,
      stepId: 'enrol',
      post: 'volunteer',
      unit: 'case' as const,
      caseUnitId,
      data: {},
      personId,
      newPerson: { name: '王秀英', phone: '13800002222', email: null },
      account: { userId },
    });
    const first = filing(org.community.id, resident);

    // Act
    const granted = await activities.grantPost(first);
    const retried = await activities.grantPost(first);
    const secondFiling = await activities.grantPost(filing(other.id, resident));
    const byStaff = await activities.grantPost(filing(org.community.id, null));
    const goneAccount = await activities.grantPost(filing(org.community.id, 'usr-no-such-account'));
    const personHasAccount = await activities.grantPost(
      filing(org.community.id, another, withAccount.personId),
    );
    const accountTaken = await activities.grantPost(
      filing(org.community.id, resident, withoutAccount),
    );
    const namedLinked = await activities.grantPost(filing(org.community.id, another, unlinked));

    // Assert: the resident's new person signs in with their account; the retry and the second
    // filing (another community) grant that same person: one person for the account
    expect(granted).toMatchObject({ refused: null, created: true, account: 'linked' });
    const residentPerson = granted.refused === null ? granted.personId : '';
    expect(retried).toMatchObject({ personId: residentPerson, account: 'linked' });
    expect(secondFiling).toEqual({
      refused: null,
      personId: residentPerson,
      unitId: other.id,
      created: false,
      alreadyHeld: false,
      account: 'linked',
    });
    expect((await Person.find({ userId: resident }, { _id: 1 }).lean()).map((p) => p._id)).toEqual([
      residentPerson,
    ]);
    expect(
      (await Post.find({ personId: residentPerson }).lean()).map((p) => p.unitId).sort(),
    ).toEqual([org.community.id, other.id].sort());
    // …staff filing for a walk-in, or an account gone: a new person without an account
    expect(byStaff).toMatchObject({ created: true, account: 'not-a-resident' });
    expect(goneAccount).toMatchObject({ created: true, account: 'no-account' });
    for (const result of [byStaff, goneAccount]) {
      const id = result.refused === null ? result.personId : '';
      expect((await Person.findById(id).lean())?.userId).toBeUndefined();
    }
    // …a person with an account of their own keeps it; an account already a person's stays
    // theirs; both refusals said, the post granted all the same
    expect(personHasAccount).toMatchObject({
      personId: withAccount.personId,
      account: 'person-has-account',
    });
    expect((await Person.findById(withAccount.personId).lean())?.userId).toBe(withAccount.userId);
    expect(accountTaken).toMatchObject({ personId: withoutAccount, account: 'account-taken' });
    expect((await Person.findById(withoutAccount).lean())?.userId).toBeUndefined();
    expect(await Post.exists({ personId: withoutAccount, role: 'volunteer' })).not.toBeNull();
    // …and a person named without an account takes the filer's, who had no person yet
    expect(namedLinked).toMatchObject({ personId: unlinked, created: false, account: 'linked' });
    expect((await Person.findById(unlinked).lean())?.userId).toBe(another);
  });
});
