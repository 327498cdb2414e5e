import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type {
  CaseAction,
  SupervisionView,
  TaskAction,
  TaskService,
  TaskView,
} from '../../services/tasks';
import { SUPERVISION_STATES } from '../../services/tasks';
import {
  caseId,
  caseIdParams,
  deadlineViewSchema,
  errorResponses,
  idempotencyKey,
  pageQuery,
} from './shared';
import { checkInInput } from '../../services/check-in';

const candidateSchema = z.object({
  personId: z.string(),
  userId: z.string().nullable(),
  unitId: z.string(),
});

const TASK_STATUSES = [
  'open',
  'claimed',
  'completed',
  'returned',
  'cancelled',
  'unclaimed',
] as const;

const taskSchema = z.object({
  id: z.string(),
  caseId: z.string(),
  definitionKey: z.string(),
  caseUnitId: z.string().nullable(),
  stepId: z.string(),
  name: z.string(),
  kind: z.enum(['task', 'claim', 'supervision']),
  status: z.enum(TASK_STATUSES),
  candidates: z.array(candidateSchema),
  assignee: candidateSchema.nullable(),
  claimants: z.array(candidateSchema),
  maxClaimants: z.number().int(),
  outcomes: z.array(z.object({ id: z.string(), name: z.string(), requiresComment: z.boolean() })),
  outcome: z.string().nullable(),
  deadlines: z.array(deadlineViewSchema),
  openedAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
  dueAt: z.iso.datetime().nullable(),
  checkIn: z
    .object({
      lat: z.number(),
      lng: z.number(),
      accuracy: z.number(),
      at: z.iso.datetime(),
      placeUnitId: z.string().nullable(),
      distance: z.number().int().nullable(),
      limit: z.number().int().nullable(),
      within: z.boolean().nullable(),
    })
    .optional()
    .meta({
      description:
        "The check-in (签到) the task was completed with: the phone's position (WGS-84), its accuracy (m) and time, and its distance (m) from the case's place (placeUnitId, the nearest unit up the tree with a location) against the step's limit",
    }),
  prefill: z.record(z.string(), z.unknown()).optional().meta({
    description:
      "The form as the step's field defaults prefill it (预填), computed as the task opened (a lookup's members, their units and points): what to show first. The completion's `form` is what counts: send the fields you keep.",
  }),
});

export const taskIdParams = z.object({
  id: z
    .string()
    .regex(
      /^case-[0-9a-f]{24}\.[a-z][a-z0-9_-]{0,63}\.\d{1,6}$/,
      'a task id such as case-….serve.1',
    ),
});
/** Optional on actions: with it, a retried call is performed once and answers the same. */
const idempotencyHeaders = z.object({ 'idempotency-key': idempotencyKey.optional() });

const listQuery = pageQuery.extend({
  view: z.enum(['mine', 'available', 'scope']).default('scope').meta({
    description:
      'mine: tasks you hold or claimed; available: open tasks you may claim; scope: every task in your org scope',
  }),
  status: z.enum(TASK_STATUSES).optional(),
  caseId: caseId.optional(),
});

const text = (max: number) => z.string().trim().min(1).max(max);

/** A location check-in (签到) from the phone: navigator.geolocation's coords, WGS-84. */
const checkInBody = checkInInput.optional().meta({
  description:
    "A location check-in (签到): the phone's position (navigator.geolocation: latitude, longitude, accuracy in metres, the fix's time). Only for steps with `checkIn`; required by `checkIn: required` (422 naming body.checkIn when missing). Accuracy over 1,000 m or a fix over an hour old is refused (422).",
});

const ACTION_BODIES: Record<TaskAction, z.ZodType> = {
  claim: z.object({ checkIn: checkInBody }).strict(),
  release: z.object({}).strict(),
  complete: z
    .object({
      outcome: z.string().max(64).default('done'),
      form: z.record(z.string(), z.unknown()).default({}),
      comment: text(2000).optional(),
      checkIn: checkInBody,
    })
    .strict(),
  return: z.object({ reason: text(2000) }).strict(),
  reassign: z
    .object({ personId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), reason: text(2000).optional() })
    .strict(),
};

const ACTION_TEXT: Record<TaskAction, { summary: string; description: string }> = {
  claim: {
    summary: 'Claim a task (签收) or a place in a claim pool',
    description:
      "Only a candidate may claim. 409 when someone else holds the task or the pool is full; claiming again what you hold answers 200. A roll-call's report-in (报到) carries `checkIn` when its step asks for one.",
  },
  release: { summary: 'Give a claimed task back to its pool', description: 'Only the holder.' },
  complete: {
    summary: 'Complete a task with an outcome and its form',
    description:
      "The form is checked against the step's fields: 422 names each bad field. A step with `checkIn` takes the phone's location with the completion (`checkIn`; 422 naming body.checkIn when required and missing): recorded on the task and, as distance and limit only, on the timeline (`task.checked-in`). A dispatcher closes a claim pool early with this action.",
  },
  return: {
    summary: 'Return a task (退单) with a reason',
    description:
      'The holder (or a dispatcher) returns it to its pool or to the step the definition names.',
  },
  reassign: {
    summary: 'Reassign a task to a person (转派)',
    description: 'Dispatchers and admins only.',
  },
};

const stateSchema = z.object({ status: z.string(), revision: z.number().int() });

const supervisionQuery = pageQuery.extend({
  status: z.enum(SUPERVISION_STATES).optional().meta({
    description:
      'open (awaiting a reply in time), overdue (awaiting one past its time), replied, moot (closed with its case)',
  }),
  level: z.enum(['yellow', 'red']).optional(),
  unitId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id')
    .optional()
    .meta({ description: "The case's unit (an unknown unit is a 400)" }),
  subtree: z
    .enum(['true', 'false'], { error: 'true or false' })
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: 'With unitId: also the units below it' }),
  from: z.string().max(40).optional().meta({
    description: 'Opened on or after: a Beijing day (from its midnight) or an instant',
  }),
  to: z.string().max(40).optional().meta({
    description: 'Opened before: a Beijing day (included) or an instant (excluded)',
  }),
});

const candidateView = z.object({
  personId: z.string(),
  userId: z.string().nullable(),
});

const supervisionSchema = z.object({
  id: z.string(),
  caseId: z.string(),
  definitionKey: z.string(),
  caseUnitId: z.string().nullable(),
  name: z.string(),
  level: z.enum(['yellow', 'red']),
  state: z.enum(SUPERVISION_STATES),
  deadline: z.string(),
  escalation: z.number().int(),
  overdue: z.boolean(),
  candidates: z.array(candidateView.loose()),
  repliedBy: candidateView.loose().nullable(),
  reply: z.string().nullable(),
  dueAt: z.iso.datetime().nullable(),
  openedAt: z.iso.datetime(),
  closedAt: z.iso.datetime().nullable(),
});

/**
 * What a resident does with a task offered to them as the requester: claim, release and complete
 * it. Returning (退单) and reassigning (转派) are the staff's; the workflow still checks that the
 * resident is the task's candidate or assignee (403/409 otherwise) and scope hides others' (404).
 */
const REQUESTER_ACTIONS: readonly TaskAction[] = ['claim', 'release', 'complete'];

export function registerTaskRoutes(routes: RouteRegistry, tasks: TaskService): void {
  routes.add<undefined, z.infer<typeof supervisionQuery>>({
    method: 'get',
    path: '/api/v1/supervisions',
    tag: 'tasks',
    summary: 'List supervision slips (督办单) in your scope, newest first',
    description:
      "Slips escalation levels opened (`supervise` in a deadline's escalations). A slip is answered with POST /api/v1/tasks/{id}/complete, outcome `replied` and form `{ reply }`, by one of its people. Filters combine; each bad value is a 400 naming its parameter.",
    roles: ['admin', 'dispatcher', 'staff'],
    query: supervisionQuery,
    responses: {
      200: {
        description: 'A page of slips',
        schema: z.object({
          items: z.array(supervisionSchema),
          page: z.number().int(),
          pageSize: z.number().int(),
          total: z.number().int(),
        }),
      },
      ...errorResponses(400, 401, 403),
    },
    async handle({ principal, query }) {
      const body = await tasks.listSupervisions(principal, query);
      return { status: 200, body: body satisfies { items: SupervisionView[] } };
    },
  });

  routes.add<undefined, z.infer<typeof listQuery>>({
    method: 'get',
    path: '/api/v1/tasks',
    tag: 'tasks',
    summary: 'List tasks: yours, those you may claim, or all in your scope',
    description:
      "A resident sees only the tasks offered to them as a case's requester (补正, 补充说明: a step whose candidates are `requester: true`), in every view.",
    // Residents: requester tasks (the task scope is theirs by candidateUserIds, nothing else).
    roles: ['admin', 'dispatcher', 'staff', 'resident'],
    query: listQuery,
    responses: {
      200: {
        description: 'A page of tasks, newest first',
        schema: z.object({
          items: z.array(taskSchema),
          page: z.number().int(),
          pageSize: z.number().int(),
          total: z.number().int(),
        }),
      },
      ...errorResponses(400, 401, 403),
    },
    async handle({ principal, query }) {
      return { status: 200, body: await tasks.listTasks(principal, query) };
    },
  });

  routes.add<z.infer<typeof taskIdParams>, undefined, undefined, undefined, TaskView>({
    method: 'get',
    path: '/api/v1/tasks/:id',
    tag: 'tasks',
    summary: 'Get a task',
    roles: ['admin', 'dispatcher', 'staff', 'resident'],
    params: taskIdParams,
    responses: {
      200: { description: 'The task', schema: taskSchema },
      ...errorResponses(400, 401, 403, 404),
    },
    find: ({ principal, params }) => tasks.getTask(principal, params.id),
    handle: (_ctx, found) => Promise.resolve({ status: 200, body: found }),
  });

  for (const action of Object.keys(ACTION_BODIES) as TaskAction[]) {
    routes.add<
      z.infer<typeof taskIdParams>,
      undefined,
      z.infer<typeof idempotencyHeaders>,
      Record<string, unknown>
    >({
      method: 'post',
      path: `/api/v1/tasks/:id/${action}`,
      tag: 'tasks',
      ...ACTION_TEXT[action],
      roles: REQUESTER_ACTIONS.includes(action)
        ? ['admin', 'dispatcher', 'staff', 'resident']
        : ['admin', 'dispatcher', 'staff'],
      params: taskIdParams,
      headers: idempotencyHeaders,
      body: ACTION_BODIES[action] as z.ZodType<Record<string, unknown>>,
      responses: {
        200: { description: 'The task after the action', schema: taskSchema },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
      async handle({ principal, params, headers, body }) {
        const view = await tasks.act(
          principal,
          params.id,
          action,
          body ?? {},
          headers['idempotency-key'],
        );
        return { status: 200, body: view };
      },
    });
  }

  const caseActions: Array<{
    action: CaseAction;
    path: string;
    summary: string;
    body: z.ZodType;
    roles: Array<'admin' | 'dispatcher' | 'staff' | 'resident' | 'system'>;
  }> = [
    {
      action: 'rate',
      path: '/api/v1/cases/:id/rating',
      summary:
        'Rate the service of a case, 1 to 5 (the requester, or the raters its feedback step names, or a dispatcher on their behalf)',
      body: z
        .object({ score: z.number().int().min(1).max(5), comment: text(1000).optional() })
        .strict(),
      // A system (a 12345 hotline bridge) relays the rating of the cases it filed.
      roles: ['admin', 'dispatcher', 'staff', 'resident', 'system'],
    },
    {
      action: 'pause',
      path: '/api/v1/cases/:id/clock/pause',
      summary: "Pause the case's SLA clocks while it waits on the requester",
      body: z.object({ reason: text(500).optional() }).strict(),
      roles: ['admin', 'dispatcher', 'staff'],
    },
    {
      action: 'resume',
      path: '/api/v1/cases/:id/clock/resume',
      summary: 'Resume the SLA clocks; deadlines move by the paused time',
      body: z.object({ reason: text(500).optional() }).strict(),
      roles: ['admin', 'dispatcher', 'staff'],
    },
  ];
  for (const spec of caseActions) {
    routes.add<
      z.infer<typeof caseIdParams>,
      undefined,
      z.infer<typeof idempotencyHeaders>,
      Record<string, unknown>
    >({
      method: 'post',
      path: spec.path,
      tag: 'cases',
      summary: spec.summary,
      roles: spec.roles,
      params: caseIdParams,
      headers: idempotencyHeaders,
      body: spec.body as z.ZodType<Record<string, unknown>>,
      responses: {
        200: { description: 'The case state after the action', schema: stateSchema },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
      async handle({ principal, params, headers, body }) {
        const state = await tasks.actOnCase(
          principal,
          params.id,
          spec.action,
          body ?? {},
          headers['idempotency-key'],
        );
        return { status: 200, body: state };
      },
    });
  }
}
