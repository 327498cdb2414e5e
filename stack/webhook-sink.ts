import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { readJsonFiles } from './smtp-sink';

/**
 * The local stack's catcher for the channels besides mail, as stack/smtp-sink.ts is for mail:
 * WeCom robots (`POST /wecom/<robot>`), DingTalk robots (`POST /dingtalk/<robot>`, signed or
 * not) and the generic SMS adapter (`POST /sms`). Each request is kept as
 * `<dir>/<time>-<id>.json` and listed by `GET /messages` (JSON; `?kind=wecom|dingtalk|sms`,
 * `?path=/wecom/x`) or `GET /` (a page). It answers as the vendors do (`errcode: 0`, or
 * `{ ok: true }` for SMS), except when told to fail: `POST /control/fail` with
 * `{ "path": "/wecom/x", "count": 2, "status": 503 }` (or `"errcode": 45009`, or for SMS
 * `"refuse": true`) answers the next `count` requests to that path (a prefix) so, for retry tests.
 */
export interface SunkWebhook {
  id: string;
  receivedAt: string;
  kind: 'wecom' | 'dingtalk' | 'sms' | 'other';
  /** The request path without its query (a robot's key is in the path locally, never logged). */
  path: string;
  /** DingTalk's signature parameters, when the request was signed. */
  timestamp: string | null;
  sign: string | null;
  body: unknown;
  /** What the sink answered: `accepted`, or `failed` when a failure rule answered it. */
  outcome: 'accepted' | 'failed';
  status: number;
  answer: unknown;
}

export interface WebhookSink {
  port: number;
  url: string;
  stop(): Promise<void>;
}

interface FailureRule {
  path: string;
  count: number;
  status?: number;
  errcode?: number;
  refuse?: boolean;
}

/** Largest request accepted (chosen: a robot message is at most a few KB). */
const MAX_BODY_BYTES = 256 * 1024;

export async function startWebhookSink(options: {
  dir: string;
  port: number;
  host?: string;
}): Promise<WebhookSink> {
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.dir, { recursive: true });
  const rules: FailureRule[] = [];

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', `http://${host}`);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET') {
      const all = await listWebhooks(options.dir);
      const kind = url.searchParams.get('kind');
      const prefix = url.searchParams.get('path');
      const chosen = all.filter(
        (m) => (!kind || m.kind === kind) && (!prefix || m.path.startsWith(prefix)),
      );
      if (url.pathname.startsWith('/messages')) return json(200, chosen);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(renderList(chosen));
      return;
    }
    if (req.method !== 'POST') return json(405, { error: 'GET or POST' });
    const body = await readJson(req);
    if (url.pathname === '/control/fail') {
      const rule = body as Partial<FailureRule> | null;
      if (!rule || typeof rule.path !== 'string' || !Number.isInteger(rule.count)) {
        return json(400, { error: 'expected { path, count, status | errcode | refuse }' });
      }
      rules.push({ ...rule, path: rule.path, count: rule.count! });
      return json(200, { ok: true });
    }
    const kind = url.pathname.startsWith('/wecom/')
      ? 'wecom'
      : url.pathname.startsWith('/dingtalk/')
        ? 'dingtalk'
        : url.pathname === '/sms' || url.pathname.startsWith('/sms/')
          ? 'sms'
          : 'other';
    let status = 200;
    let answer: unknown = kind === 'sms' ? { ok: true } : { errcode: 0, errmsg: 'ok' };
    let outcome: SunkWebhook['outcome'] = 'accepted';
    const problem = checkShape(kind, body);
    if (problem) {
      outcome = 'failed';
      answer =
        kind === 'sms' ? { ok: false, reason: problem } : { errcode: 40008, errmsg: problem };
    }
    const rule = rules.find((r) => r.count > 0 && url.pathname.startsWith(r.path));
    if (rule && !problem) {
      rule.count--;
      outcome = 'failed';
      if (rule.status !== undefined) {
        status = rule.status;
        answer = { error: `failing on purpose (${rule.status})` };
      } else if (rule.refuse) {
        answer = { ok: false, reason: 'refused on purpose' };
      } else {
        answer = { errcode: rule.errcode ?? 500, errmsg: 'failing on purpose' };
      }
    }
    await store(options.dir, {
      kind,
      path: url.pathname,
      timestamp: url.searchParams.get('timestamp'),
      sign: url.searchParams.get('sign'),
      body,
      outcome,
      status,
      answer,
    });
    json(status, answer);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://${host}:${port}`,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

/** The vendors' shapes: `msgtype` text or markdown with its content; SMS a phone and template. */
function checkShape(kind: SunkWebhook['kind'], body: unknown): string | null {
  const b = (body ?? {}) as Record<string, Record<string, unknown> | string | undefined>;
  if (kind === 'sms') {
    const sms = body as { phone?: unknown; templateId?: unknown; params?: unknown } | null;
    return sms && typeof sms.phone === 'string' && typeof sms.templateId === 'string'
      ? null
      : 'expected { phone, templateId, params }';
  }
  if (kind === 'wecom' || kind === 'dingtalk') {
    if (b.msgtype === 'text') {
      return typeof (b.text as { content?: unknown } | undefined)?.content === 'string'
        ? null
        : 'text.content missing';
    }
    if (b.msgtype === 'markdown') {
      const md = b.markdown as { content?: unknown; text?: unknown; title?: unknown } | undefined;
      const ok =
        kind === 'wecom'
          ? typeof md?.content === 'string'
          : typeof md?.text === 'string' && typeof md.title === 'string';
      return ok ? null : 'markdown fields missing';
    }
    return 'msgtype must be text or markdown';
  }
  return null;
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function store(dir: string, entry: Omit<SunkWebhook, 'id' | 'receivedAt'>): Promise<void> {
  const receivedAt = new Date().toISOString();
  // Time-ordered names so a directory listing is the arrival order.
  const id = `${receivedAt.replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  await writeFile(
    path.join(dir, `${id}.json`),
    JSON.stringify({ id, receivedAt, ...entry }, null, 2),
  );
}

/** Every request the sink holds in `dir`, oldest first. */
export async function listWebhooks(dir: string): Promise<SunkWebhook[]> {
  return readJsonFiles<SunkWebhook>(dir);
}

function renderList(items: SunkWebhook[]): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = items
    .slice()
    .reverse()
    .map(
      (m) =>
        `<tr><td>${escape(m.receivedAt)}</td><td>${escape(m.kind)}</td><td>${escape(m.path)}</td><td>${escape(m.outcome)}</td><td><pre>${escape(JSON.stringify(m.body, null, 1))}</pre></td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>Webhook sink</title><style>body{font-family:sans-serif;margin:2rem}td{border-bottom:1px solid #ccc;padding:.4rem;vertical-align:top}pre{white-space:pre-wrap;margin:0}</style><h1>Webhook sink (${items.length})</h1><table><thead><tr><th>Received</th><th>Kind</th><th>Path</th><th>Outcome</th><th>Body</th></tr></thead><tbody>${rows}</tbody></table></html>`;
}
