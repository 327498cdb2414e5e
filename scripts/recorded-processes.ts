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
