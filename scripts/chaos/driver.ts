import { randomUUID } from 'node:crypto';
import { sleep } from './components';

/**
 * The chaos run's users: an HTTP client that rides out the outages the run causes (connection
 * refused while the API is down, 503 while Temporal or the store is, 429 if a limit is on),
 * waiting as Retry-After says and sending the same Idempotency-Key again so a retried action is
 * done once; and the case scripts, which work each case the way people do.
 */
export interface Reply<T = unknown> {
  status: number;
  body: T;
}

export interface ClientStats {
  requests: number;
  retries: number;
  byStatus: Record<string, number>;
  /** Answers of 500 and above, by status and route (ids left out), with the first error code. */
  serverErrors: Record<string, number>;
}

export function createClient(baseUrl: () => string, stats: ClientStats) {
  /** How long one call keeps retrying before it gives up (chosen: longer than any outage). */
  const GIVE_UP_MS = 30 * 60_000;
  return async function call<T>(
    method: string,
    path: string,
    options: { token: string; body?: unknown; key?: string } = { token: '' },
  ): Promise<Reply<T>> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) stats.retries++;
      stats.requests++;
      let wait = 1000;
      try {
        const res = await fetch(`${baseUrl()}${path}`, {
          method,
          headers: {
            ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
            ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(options.key ? { 'idempotency-key': options.key } : {}),
          },
          body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
        // 500 and 502-504: a part was down mid-request; the key makes the retry safe.
        if (res.status >= 500) {
          const route = path
            .replace(/case-[0-9a-f]{24}(\.[a-z][a-z0-9_-]*\.\d+)?/g, ':id')
            .replace(/\?.*$/, '');
          const code = /"code":"([^"]+)"/.exec(text)?.[1] ?? '';
          const what = `${res.status} ${method} ${route} ${code}`.trim();
          stats.serverErrors[what] = (stats.serverErrors[what] ?? 0) + 1;
        }
        if (res.status === 429 || res.status >= 500) {
          const after = Number(res.headers.get('retry-after'));
          wait = Number.isFinite(after) && after > 0 ? after * 1000 : 1000;
        } else {
          return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
        }
      } catch {
        stats.byStatus.network = (stats.byStatus.network ?? 0) + 1;
      }
      if (Date.now() - started > GIVE_UP_MS) {
        throw new Error(`${method} ${path}: still failing after ${GIVE_UP_MS / 60_000} minutes`);
      }
      await sleep(wait + Math.random() * 500);
    }
  };
}

export type Call = ReturnType<typeof createClient>;

/** The shipped processes the run uses, how a case of each is started, and how its tasks are done. */
export const PROCESSES = {
  // Start, a receipt mail, closed.
  'resident-request': {
    data: (n: number, email: string) => ({
      category: '环境卫生',
      description: `混沌测试诉求 ${n}`,
      contactEmail: email,
    }),
  },
  // Intake, a receipt mail, handling, the public board, a rating invitation (mail), supervision.
  'four-step-service': {
    data: (n: number, email: string) => ({
      category: '便民服务',
      title: `混沌测试事项 ${n}`,
      description: '楼道灯不亮',
      contactEmail: email,
    }),
  },
  // A task with an integer form racing a 10-working-day timer (join any).
  'dispute-report': {
    data: () => ({ period: '2026-12-01', focus: '混沌测试' }),
  },
} as const;

export type ProcessKey = keyof typeof PROCESSES;

/** The valid completion of each task step of the processes above. */
const COMPLETIONS: Record<string, { outcome: string; form: Record<string, unknown> }> = {
  intake: { outcome: 'accepted', form: { note: '已受理' } },
  handle: { outcome: 'resolved', form: { result: '已办结' } },
  supervise: { outcome: 'confirmed', form: { finding: '回访核实无误' } },
  report: {
    outcome: 'reported',
    form: { found: 2, resolved: 1, escalated: 1, summary: '本月排查完成' },
  },
};

interface TaskItem {
  id: string;
  stepId: string;
  status: string;
}

interface CaseBody {
  id: string;
  status: string;
  currentStep: { id: string; type: string } | null;
}

export interface CaseOutcome {
  key: ProcessKey;
  /** The case id the API accepted (201 or 200 on a retried start), if it did. */
  caseId?: string;
  /** Why the start was refused (a status other than 2xx), if it was. */
  refused?: string;
  /** The status the driver last saw. */
  status?: string;
  actions: number;
  ratings: number;
}

/**
 * One case, start to end: start it (one Idempotency-Key for every retry of the start), then
 * until it is no longer open: claim and complete each task it offers, rate it when it asks.
 */
export async function driveCase(
  call: Call,
  who: { token: string },
  key: ProcessKey,
  n: number,
  unitId: string,
  email: string,
  deadline: number,
): Promise<CaseOutcome> {
  const outcome: CaseOutcome = { key, actions: 0, ratings: 0 };
  const started = await call<{ id: string }>('POST', '/api/v1/cases', {
    token: who.token,
    key: `chaos-start-${randomUUID()}`,
    body: { definitionKey: key, unitId, data: PROCESSES[key].data(n, email) },
  });
  if (started.status !== 201 && started.status !== 200) {
    outcome.refused = `${started.status} ${JSON.stringify(started.body).slice(0, 200)}`;
    return outcome;
  }
  const caseId = started.body.id;
  outcome.caseId = caseId;
  // One key per (task, action) and per rating, reused on every retry of that action.
  const keys = new Map<string, string>();
  const keyFor = (what: string) => {
    if (!keys.has(what)) keys.set(what, `chaos-${randomUUID()}`);
    return keys.get(what)!;
  };
  while (Date.now() < deadline) {
    const view = await call<CaseBody>('GET', `/api/v1/cases/${caseId}`, { token: who.token });
    if (view.status === 200) {
      outcome.status = view.body.status;
      if (view.body.status !== 'open') return outcome;
      if (view.body.currentStep?.type === 'feedback' && outcome.ratings === 0) {
        const rated = await call('POST', `/api/v1/cases/${caseId}/rating`, {
          token: who.token,
          key: keyFor('rating'),
          body: { score: 5, comment: '满意' },
        });
        if (rated.status === 200) outcome.ratings++;
      }
    }
    for (const viewName of ['mine', 'available'] as const) {
      const tasks = await call<{ items: TaskItem[] }>(
        'GET',
        `/api/v1/tasks?view=${viewName}&caseId=${caseId}`,
        { token: who.token },
      );
      if (tasks.status !== 200) continue;
      for (const task of tasks.body.items) {
        if (task.status !== 'open' && task.status !== 'claimed') continue;
        const completion = COMPLETIONS[task.stepId];
        if (!completion) continue;
        if (task.status === 'open') {
          await call('POST', `/api/v1/tasks/${task.id}/claim`, {
            token: who.token,
            key: keyFor(`${task.id}:claim`),
            body: {},
          });
          outcome.actions++;
        }
        await call('POST', `/api/v1/tasks/${task.id}/complete`, {
          token: who.token,
          key: keyFor(`${task.id}:complete`),
          body: completion,
        });
        outcome.actions++;
      }
    }
    await sleep(1500 + Math.random() * 1000);
  }
  return outcome;
}
