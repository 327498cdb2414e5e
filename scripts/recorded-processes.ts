/**
 * The processes whose recorded histories test/fixtures/histories holds, as an admin would write
 * them (YAML): `npm run record-histories` starts cases of them, and the integration tests run
 * them too. Outside test/ so the script does not reach into the tests.
 */

/**
 * Receipt mail, a wait, a second mail, then closed: long enough to kill a worker in the middle,
 * and with two mails to count for duplicates.
 */
export function waitingProcess(key: string, wait: string): string {
  return `
key: ${key}
name: 等待测试
starters: [admin, resident, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
    - { name: description, label: 内容, type: text, required: true }
    - { name: contactEmail, label: 邮箱, type: email, required: true }
steps:
  - { id: acknowledge, name: 受理回执, type: notify, template: case-received, to: { field: contactEmail } }
  - { id: wait, name: 等待, type: timer, duration: ${wait} }
  - { id: follow-up, name: 办结通知, type: notify, template: case-received, to: { field: contactEmail } }
  - { id: closed, name: 办结, type: end, status: closed }
`;
}

/**
 * A request served by people of the org tree: a community dispatcher assigns it, a grid worker
 * claims and serves it within `serveWithin` (missed: the community director hears of it), the
 * requester rates it.
 */
export function servedProcess(key: string, serveWithin: string): string {
  return `
key: ${key}
name: 测试诉求办理
starters: [resident, dispatcher, admin, system]
input:
  fields:
    - { name: category, label: 诉求类别, type: string, required: true }
    - { name: contactEmail, label: 联系邮箱, type: email, personal: true }
steps:
  - id: dispatch
    name: 派单
    type: task
    candidates: [{ role: dispatcher, unit: community }]
    form:
      fields:
        - { name: note, label: 派单说明, type: string, required: true }
        - { name: urgency, label: 加急原因, type: string }
    outcomes:
      - { id: assign, name: 派单, next: serve }
      - { id: rush, name: 加急派单, next: serve, requires: [urgency] }
      - { id: reject, name: 不予受理, next: rejected, requiresComment: true }
  - id: serve
    name: 办理
    type: task
    candidates: [{ role: grid-worker, unit: case }]
    outcomes: [{ id: done, name: 已办结 }]
    deadlines:
      - id: finish
        name: 办结时限
        within: ${serveWithin}
        escalations:
          - notify: { role: director, unit: { of: assignee, at: parent } }
  - id: rate
    name: 群众评价
    type: feedback
    within: PT1H
    invite: { field: contactEmail }
  - id: closed
    name: 办结
    type: end
  - id: rejected
    name: 不予受理
    type: end
    status: rejected
`;
}

/**
 * One task under a seconds-long deadline with a reminder and a two-level escalation ladder whose
 * second level hands the task to the community dispatcher. Recorded for replay with a pause and a
 * resumption on the way (`npm run record-histories`): it guards what SLA clocks do with timers.
 */
export function clockedProcess(key: string): string {
  return `
key: ${key}
name: 测试时限督办
starters: [resident, dispatcher, admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: serve
    name: 办理
    type: task
    candidates: [{ role: grid-worker, unit: case }]
    outcomes: [{ id: done, name: 已办结 }]
    deadlines:
      - id: finish
        name: 办结时限
        within: PT6S
        reminders: [{ before: PT3S, notify: assignee }]
        escalations:
          - notify: { role: dispatcher, unit: community }
          - after: PT2S
            notify: { role: dispatcher, unit: community }
            reassign: true
  - { id: closed, name: 办结, type: end }
`;
}

/**
 * Two parallel parts: a joint inspection (join all: the grid worker's and the dispatcher's task)
 * and then a race (join any) whose losing branch carries a deadline with a reminder. Recorded for
 * replay: branches resolve their people at the same time, and a lost race cancels a clock.
 */
export function parallelProcess(key: string): string {
  return `
key: ${key}
name: 测试并行办理
starters: [resident, dispatcher, admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: joint
    name: 联合核查
    type: parallel
    join: all
    branches:
      - name: 网格
        steps:
          - id: inspect
            name: 网格核查
            type: task
            announce: false
            candidates: [{ role: grid-worker, unit: case }]
            outcomes: [{ id: fixed, name: 已处理 }]
      - name: 社区
        steps:
          - id: review
            name: 社区审核
            type: task
            announce: false
            candidates: [{ role: dispatcher, unit: community }]
            outcomes: [{ id: agree, name: 同意 }]
  - id: race
    name: 先到先办
    type: parallel
    join: any
    branches:
      - name: 快
        steps:
          - id: fast
            name: 网格先办
            type: task
            announce: false
            candidates: [{ role: grid-worker, unit: case }]
            outcomes: [{ id: done, name: 已办 }]
      - name: 慢
        steps:
          - id: slow
            name: 社区后办
            type: task
            announce: false
            candidates: [{ role: dispatcher, unit: community }]
            outcomes: [{ id: done, name: 已办 }]
            deadlines:
              - id: slow_1h
                name: 1小时办结
                within: PT1H
                reminders: [{ before: PT30M }]
  - id: closed
    name: 办结
    type: end
`;
}

/** The child of the sub-process recordings: a short wait, then closed. */
export function childProcess(key: string): string {
  return `
key: ${key}
name: 测试子流程
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string }
steps:
  - { id: wait, name: 等待, type: timer, duration: PT1S }
  - { id: closed, name: 办结, type: end }
`;
}

/**
 * A sub-process started and waited for, then a fan-out of it over every grid of the case's
 * community (started in parallel, waited for): recorded for replay of both child-case paths.
 */
export function subprocessProcess(key: string, child: string): string {
  return `
key: ${key}
name: 测试子流程调用
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: single
    name: 单个子流程
    type: subprocess
    definition: ${child}
    data: { category: data.category }
  - id: grids
    name: 各网格子流程
    type: subprocess
    definition: ${child}
    forEach: { units: { type: grid, within: case } }
    data: { category: data.category }
  - { id: closed, name: 办结, type: end }
`;
}

/** A sub-process naming a process that does not exist: the case fails (projected failed). */
export function failingProcess(key: string): string {
  return `
key: ${key}
name: 测试失败
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: missing
    name: 不存在的子流程
    type: subprocess
    definition: replay-no-such-process
  - { id: closed, name: 办结, type: end }
`;
}

/**
 * A claim pool broadcast to the grid workers of the community (two may claim), the task that
 * follows going to the claimants, and volunteer points for the claimants and the assignee.
 */
export function poolProcess(key: string): string {
  return `
key: ${key}
name: 测试认领池
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: pool
    name: 认领需求
    type: claim
    announce: false
    candidates: [{ role: grid-worker, unitsOfType: grid, under: case }]
    claimants: { min: 1, max: 2 }
  - id: serve
    name: 认领方办理
    type: task
    announce: false
    candidates: [{ claimantsOf: pool }]
    outcomes: [{ id: done, name: 已办 }]
  - { id: closed, name: 办结, type: end }
points:
  - { when: { step: pool }, to: claimants, points: 5, reason: 认领需求 }
  - { when: { step: serve, outcome: done }, points: 10, reason: 完成需求 }
`;
}

/**
 * A roll-call (点名报到) of every grid worker of the community within seconds: the one still
 * silent at the report deadline is escalated to the dispatcher, the window then ends.
 */
export function rollCallRecordedProcess(key: string): string {
  return `
key: ${key}
name: 测试点名报到
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: report
    name: 到岗报到
    type: claim
    announce: false
    candidates: [{ role: grid-worker, unitsOfType: grid, under: case }]
    claimants: { max: all }
    within: PT8S
    onUnclaimed: closed
    deadlines:
      - id: report_due
        name: 限时报到
        within: PT4S
        escalations:
          - notify: { role: dispatcher, unit: community }
  - { id: closed, name: 点名结束, type: end }
`;
}

/**
 * One task on a working-time deadline: claimed, returned (退单), reassigned by the dispatcher
 * (转派) and completed; the calendar-changed signal reaches its running clock on the way.
 */
export function returnedProcess(key: string): string {
  return `
key: ${key}
name: 测试退单转派
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: serve
    name: 办理
    type: task
    candidates: [{ role: grid-worker, unit: case }]
    outcomes: [{ id: done, name: 已办结 }]
    deadlines:
      - id: finish
        name: 办结时限
        within: 5 working days
        escalations:
          - notify: { role: dispatcher, unit: community }
  - { id: closed, name: 办结, type: end }
`;
}

/**
 * An evaluation round (评单评议) over the orders the community closed today, scored by its
 * dispatcher and closed after seconds; also carries a schedule, so `scheduledCaseWorkflow` can
 * start it (the recorder starts that workflow itself, no Temporal Schedule needed).
 */
export function evaluationProcess(key: string): string {
  return `
key: ${key}
name: 测试评单评议
starters: [admin, system]
schedule:
  every: year
  at: '09:00'
  unit: c1
  data: { note: 定期评议 }
input:
  fields:
    - { name: note, label: 备注, type: string }
steps:
  - id: scoring
    name: 评单打分
    type: evaluation
    orders:
      from: 'addDays(date(case.receivedAt), -1)'
      to: 'addDays(date(case.receivedAt), 1)'
    groups:
      - id: units
        name: 社区
        weight: 100
        scorers: [{ role: dispatcher, unit: case }]
    responsible: dispatcher
    within: PT6S
  - { id: closed, name: 评议结束, type: end }
`;
}

/**
 * Intake, then a task sent back to be done again (a decision loops to it) until it is done, under
 * a case deadline: recorded with lowered history thresholds, so the case continues as new between
 * two visits and the runs after the switch carry its state and its running clock.
 */
export function loopingProcess(key: string): string {
  return `
key: ${key}
name: 测试反复复核
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
deadlines:
  - id: case
    name: 总办结时限
    within: PT1H
    escalations:
      - notify: { role: dispatcher, unit: community }
steps:
  - id: intake
    name: 受理
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: case }]
    outcomes: [{ id: accept, name: 受理 }]
  - id: serve
    name: 办理
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: case }]
    outcomes:
      - { id: again, name: 退回重办 }
      - { id: done, name: 办结 }
  - id: check
    name: 复核
    type: decision
    branches:
      - { when: "steps.serve.outcome == 'again'", next: serve }
    otherwise: closed
  - { id: closed, name: 办结, type: end }
`;
}

/**
 * A review sent back again and again in one branch of a parallel step while the other branch's
 * task waits, claimed, under its deadline (recorded 2026-12-07, issue 14): recorded with lowered
 * history thresholds, so the case continues as new inside the parallel step and the runs after
 * the switch carry the claimed task and the looping branch's state.
 */
export function parallelLoopingProcess(key: string): string {
  return `
key: ${key}
name: 测试并行分支反复复核
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: work
    name: 推进与复核
    type: parallel
    join: all
    branches:
      - name: 项目推进
        steps:
          - id: finish
            name: 完成项目
            type: task
            announce: false
            candidates: [{ role: grid-worker, unit: case }]
            deadlines:
              - { id: finish_due, name: 完工时限, within: P20D }
      - name: 反复复核
        steps:
          - id: review
            name: 复核
            type: task
            announce: false
            candidates: [{ role: grid-worker, unit: case }]
            outcomes:
              - { id: again, name: 退回重办 }
              - { id: right, name: 复核通过 }
          - id: reviewed
            name: 复核结果
            type: decision
            branches:
              - { when: "steps.review.outcome == 'again'", next: review }
            otherwise: review_done
          - { id: review_done, name: 复核完毕, type: timer, duration: PT1S }
  - { id: closed, name: 办结, type: end }
`;
}

/**
 * 未诉先办 (recorded 2026-12, issue 17): a `recurrence` analysis of the community's requests of
 * `counted` received the day before and the day after, by grid, two or more of one category
 * opening a case of `child` for the grid (not waited for).
 */
export function recurrenceProcess(key: string, counted: string, child: string): string {
  return `
key: ${key}
name: 测试高频诉求分析
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string }
steps:
  - id: analyse
    name: 高频诉求分析
    type: recurrence
    cases:
      from: 'addDays(date(case.receivedAt), -1)'
      to: 'addDays(date(case.receivedAt), 1)'
      definitions: [${counted}]
    place: grid
    threshold: 2
    definition: ${child}
  - { id: closed, name: 分析完成, type: end }
`;
}

/**
 * An arrival with a required location check-in (签到) within 300 m: the grid worker claims it and
 * completes it with a check-in, which records `task.checked-in` before `task.completed`.
 */
export function checkInProcess(key: string): string {
  return `
key: ${key}
name: 测试到场签到
starters: [admin, system]
input:
  fields:
    - { name: category, label: 类别, type: string, required: true }
steps:
  - id: arrive
    name: 到场
    type: task
    announce: false
    candidates: [{ role: grid-worker, unit: case }]
    checkIn: { mode: required, withinMeters: 300 }
    outcomes: [{ id: arrived, name: 已到场 }]
  - { id: closed, name: 办结, type: end }
`;
}
