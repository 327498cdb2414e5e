import type { AddressInfo, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from '../../common/payload-codec';
import pino from 'pino';
import { createDefinitionService } from '../../services/definitions';
import { createMailRenderer } from '../../mail/renderer';
import { servedProcess } from '../../scripts/recorded-processes';
import { consoleClient } from '../support/console-client';
import { open311Problems } from '../support/open311-schemas';
import type { TestApp } from '../support/harness';
import {
  idempotencyKey,
  startTestApp,
  testConfig,
  uniqueAddress,
  waitFor,
} from '../support/harness';

/**
 * Answers instead of 500s: malformed paths are the client's 400 (in the API's, Open311's or the
 * static files' own shape) and log no stack; Temporal's refusals reach callers as 409 and, when
 * Temporal stops answering, as 503 with Retry-After once the call deadline passes.
 */

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ path: string; message: string }> };
}
interface Task {
  id: string;
  stepId: string;
}

const DEFINITION = 'test-answers';

/** Every line the API logs, parsed. */
const logLines: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'debug' },
  { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
);

let app: TestApp;
let dispatcher: string;

beforeAll(async () => {
  app = await startTestApp('request-answers', { logger });
  await createDefinitionService(app.db.models, createMailRenderer().templateNames).publish({
    source: servedProcess(DEFINITION, 'PT1H'),
    format: 'yaml',
    publishedBy: { kind: 'system', id: 'test' },
  });
  dispatcher = await app.signIn('answers-disp', ['dispatcher'], ['c1']);
  const user = await app.db.models.User.findOne({ username: 'answers-disp' }).lean();
  const imported = await app.http('POST', '/api/v1/org/import', {
    token: app.adminKey,
    body: {
      units: [
        { id: 'c1', name: '东社区', type: 'community', parentId: null },
        { id: 'g1', name: '第一网格', type: 'grid', parentId: 'c1' },
      ],
      people: [
        { id: 'p-disp', name: '派单员', email: uniqueAddress('disp'), userId: String(user!._id) },
      ],
      posts: [{ unitId: 'c1', role: 'dispatcher', personId: 'p-disp' }],
    },
  });
  expect(imported.status).toBe(200);
});

afterAll(async () => {
  await app?.stop();
});

/** A case waiting on its dispatch task, through `via` (default: the app). */
async function caseWithOpenTask(via: TestApp = app): Promise<{ caseId: string; task: Task }> {
  const started = await via.http<{ id: string }>('POST', '/api/v1/cases', {
    token: dispatcher,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { definitionKey: DEFINITION, unitId: 'g1', data: { category: '环境卫生' } },
  });
  expect(started.status).toBe(201);
  const caseId = started.body.id;
  const task = await waitFor('the dispatch task', async () => {
    const res = await app.http<{ items: Task[] }>(
      'GET',
      `/api/v1/tasks?view=available&caseId=${caseId}`,
      { token: dispatcher },
    );
    return res.body.items.find((t) => t.stepId === 'dispatch');
  });
  return { caseId, task };
}

function errorsLogged(since: number): Array<Record<string, unknown>> {
  return logLines
    .slice(since)
    .filter((line) => (line.level as number) >= 50 || JSON.stringify(line).includes('"stack"'));
}

describe('malformed paths', () => {
  it('when an API path does not decode, then 400 in the API error shape and no stack is logged', async () => {
    // Arrange
    const since = logLines.length;

    // Act
    const anonymous = await app.http<ErrorBody>('GET', '/api/v1/cases/%');
    const signedIn = await app.http<ErrorBody>('POST', '/api/v1/tasks/%E0%A4%A/claim', {
      token: app.adminKey,
      body: {},
    });

    // Assert
    for (const res of [anonymous, signedIn]) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.message).toMatch(/not a valid URI/);
    }
    expect(anonymous.body.error.details).toEqual([
      { path: 'path', message: "Failed to decode param '%'" },
    ]);
    expect(errorsLogged(since)).toEqual([]);
  });

  it('when an Open311 path does not decode, then 400 in the Open311 error shape and no stack is logged', async () => {
    // Arrange
    const since = logLines.length;

    // Act
    const res = await app.http<Array<{ code: number; description: string }>>(
      'GET',
      '/open311/v2/requests/%.json',
    );

    // Assert
    expect(res.status).toBe(400);
    expect(open311Problems('errors', res.body)).toEqual([]);
    expect(res.body).toEqual([{ code: 400, description: "path: Failed to decode param '%'" }]);
    expect(errorsLogged(since)).toEqual([]);
  });

  it('when a console static path does not decode or names no file, then 400 or 404 and no stack is logged', async () => {
    // Arrange
    const since = logLines.length;

    // Act
    const malformed = await app.http('GET', '/console/static/%');
    const missing = await app.http('GET', '/console/static/no-such-file.css');
    const present = await app.http('GET', '/console/static/console.css');

    // Assert
    expect([malformed.status, malformed.body]).toEqual([400, 'Bad Request']);
    expect([missing.status, missing.body]).toEqual([404, 'Not Found']);
    expect(present.status).toBe(200);
    expect(errorsLogged(since)).toEqual([]);
  });
});

describe("Temporal's refusals", () => {
  it('when a task is acted on after its case ended, then 409, not 500', async () => {
    // Arrange
    const { caseId, task } = await caseWithOpenTask();
    const connection = await Connection.connect({ address: app.config.TEMPORAL_ADDRESS });
    try {
      await new Client({
        connection,
        namespace: app.config.TEMPORAL_NAMESPACE,
        dataConverter: dataConverterFor(app.config.TEMPORAL_CODEC_KEYS),
      }).workflow
        .getHandle(caseId)
        .terminate('the test ends the case');
    } finally {
      await connection.close();
    }
    const since = logLines.length;

    // Act
    const res = await app.http<ErrorBody>('POST', `/api/v1/tasks/${task.id}/claim`, {
      token: dispatcher,
      body: {},
    });

    // Assert
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'conflict',
      message: 'The case is no longer running',
    });
    expect(errorsLogged(since)).toEqual([]);
  });

  describe('when Temporal stops answering', () => {
    let proxy: FreezableProxy;
    let viaProxy: TestApp;

    beforeAll(async () => {
      proxy = await freezableProxy(app.config.TEMPORAL_ADDRESS);
      // The same database and task queue as `app` (whose worker runs the cases), with Temporal
      // reached through the proxy and a short call deadline.
      const config = testConfig('request-answers-proxy', {
        MONGODB_URI: app.config.MONGODB_URI,
        TEMPORAL_TASK_QUEUE: app.config.TEMPORAL_TASK_QUEUE,
        TEMPORAL_ADDRESS: proxy.address,
        TEMPORAL_CALL_TIMEOUT_MS: '1000',
      });
      viaProxy = await startTestApp('request-answers-proxy', { worker: false, config, logger });
    });

    afterAll(async () => {
      proxy?.close();
      await viaProxy?.stop();
    });

    it('then a case start and a task action, in the API and the console, answer 503 with Retry-After at the deadline', async () => {
      // Arrange: a live case with an open task, its console page open, then the server goes silent
      const { task } = await caseWithOpenTask(viaProxy);
      const browser = consoleClient(viaProxy.api.url);
      browser.useSession(dispatcher);
      expect((await browser.get(`/console/tasks/${task.id}`)).status).toBe(200);
      proxy.freeze();
      const since = logLines.length;

      // Act
      const startedAt = Date.now();
      const start = await viaProxy.http<ErrorBody>('POST', '/api/v1/cases', {
        token: dispatcher,
        headers: { 'idempotency-key': idempotencyKey() },
        body: { definitionKey: DEFINITION, unitId: 'g1', data: { category: '环境卫生' } },
      });
      const startMs = Date.now() - startedAt;
      const claim = await viaProxy.http<ErrorBody>('POST', `/api/v1/tasks/${task.id}/claim`, {
        token: dispatcher,
        body: {},
      });
      const consoleClaim = await browser.post(`/console/tasks/${task.id}/claim`, {});

      // Assert
      for (const res of [start, claim]) {
        expect(res.status).toBe(503);
        expect(res.body.error.code).toBe('unavailable');
        expect(res.headers.get('retry-after')).toBe('5');
      }
      expect(consoleClaim.status).toBe(503);
      expect(consoleClaim.headers.get('retry-after')).toBe('5');
      expect(startMs).toBeLessThan(5_000);
      expect(errorsLogged(since)).toEqual([]);
      const warned = logLines.slice(since).filter((line) => line.level === 40);
      expect(warned).toHaveLength(3);
    });
  });
});

describe('the store', () => {
  describe('when the store stops answering or goes down', () => {
    let proxy: FreezableProxy;
    let viaProxy: TestApp;

    beforeAll(async () => {
      const uri = new URL(app.config.MONGODB_URI);
      proxy = await freezableProxy(uri.host);
      uri.host = proxy.address;
      // The same database as `app`, reached through the proxy, with a short store deadline.
      const config = testConfig('request-answers-store', {
        MONGODB_URI: uri.toString(),
        TEMPORAL_TASK_QUEUE: app.config.TEMPORAL_TASK_QUEUE,
        STORE_CALL_TIMEOUT_MS: '1500',
      });
      viaProxy = await startTestApp('request-answers-store', { worker: false, config, logger });
    });

    afterAll(async () => {
      proxy?.restore();
      await viaProxy?.stop();
      proxy?.close();
    });

    it('then API and console requests answer 503 with Retry-After within the deadline, log no stack, and succeed again once it is back', async () => {
      // Arrange: the API works through the proxy; a console session is open
      expect((await viaProxy.http('GET', '/api/v1/cases', { token: dispatcher })).status).toBe(200);
      const browser = consoleClient(viaProxy.api.url);
      browser.useSession(dispatcher);
      expect((await browser.get('/console/cases')).status).toBe(200);
      const since = logLines.length;

      // Act: a stuck store, then a store that refuses connections
      proxy.freeze();
      const startedAt = Date.now();
      const stuck = await viaProxy.http<ErrorBody>('GET', '/api/v1/cases', { token: dispatcher });
      const stuckMs = Date.now() - startedAt;
      const stuckPage = await browser.get('/console/cases');
      proxy.cut();
      const down = await viaProxy.http<ErrorBody>('GET', '/api/v1/cases', { token: dispatcher });
      const downOpen311 = await viaProxy.http('GET', '/open311/v2/requests.json');
      proxy.restore();
      const back = await waitFor('the API answering again', async () => {
        const res = await viaProxy.http('GET', '/api/v1/cases', { token: dispatcher });
        return res.status === 200 ? res : undefined;
      });

      // Assert
      for (const res of [stuck, down]) {
        expect(res.status).toBe(503);
        expect(res.body.error).toMatchObject({
          code: 'unavailable',
          message: 'The data store is not answering; try again shortly',
        });
        expect(res.headers.get('retry-after')).toBe('5');
      }
      expect(stuckMs).toBeLessThan(6_000);
      expect(stuckPage.status).toBe(503);
      expect(stuckPage.headers.get('retry-after')).toBe('5');
      expect(downOpen311.status).toBe(503);
      expect(back.status).toBe(200);
      expect(errorsLogged(since)).toEqual([]);
    });
  });
});

interface FreezableProxy {
  address: string;
  /** From now on, bytes in either direction are dropped: the server seems stuck. */
  freeze(): void;
  /** Open connections are cut and new ones refused at once: the server is down. */
  cut(): void;
  /** Bytes flow again and new connections reach the server. */
  restore(): void;
  close(): void;
}

/** A TCP proxy in front of Temporal that can go silent (a stuck server or a dead network path). */
async function freezableProxy(target: string): Promise<FreezableProxy> {
  const [host, port] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  let frozen = false;
  let down = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(port), host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!frozen) to.write(chunk);
      });
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    freeze() {
      frozen = true;
    },
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      frozen = false;
      down = false;
      // Connections that carried dropped bytes are out of step: start afresh.
      for (const socket of sockets) socket.destroy();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
