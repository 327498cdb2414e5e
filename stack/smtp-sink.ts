import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * The local stack's mail catcher: accepts any mail on loopback and keeps each message as
 * `<mailDir>/<id>.eml` plus a `<id>.json` summary, where tests and the console read them. A small
 * HTTP page lists what arrived.
 */
export interface SunkMail {
  id: string;
  receivedAt: string;
  envelope: { from: string | null; to: string[] };
  messageId: string | null;
  subject: string;
  text: string;
  html: string;
}

export interface SmtpSink {
  smtpPort: number;
  httpPort: number;
  stop(): Promise<void>;
}

export async function startSmtpSink(options: {
  mailDir: string;
  smtpPort: number;
  httpPort: number;
  host?: string;
}): Promise<SmtpSink> {
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.mailDir, { recursive: true });
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        storeMail(options.mailDir, raw, session.envelope).then(
          () => callback(),
          (err: Error) => callback(err),
        );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(options.smtpPort, host, () => {
      smtp.off('error', reject);
      resolve();
    });
  });
  // Once listening, an error is one client's connection (a pooled sender dropped mid-session:
  // ECONNRESET when a worker stops): that session ends, the sink goes on. Without a listener the
  // server's 'error' event would throw and end the whole process (it ended a test run so).
  smtp.on('error', () => undefined);

  const web = http.createServer((req, res) => {
    listMail(options.mailDir).then(
      (mails) => {
        if (req.url?.startsWith('/messages')) {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(mails));
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(renderList(mails));
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    web.once('error', reject);
    web.listen(options.httpPort, host, () => resolve());
  });

  return {
    smtpPort: options.smtpPort,
    httpPort: options.httpPort,
    async stop() {
      await new Promise<void>((resolve) => web.close(() => resolve()));
      web.closeAllConnections();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    },
  };
}

async function storeMail(
  mailDir: string,
  raw: Buffer,
  envelope: { mailFrom: false | { address: string }; rcptTo: { address: string }[] },
): Promise<void> {
  // The summary keeps the text and the HTML as sent: mailparser's third form of the body (the
  // text turned into HTML, with its links found and every character entity-encoded) is never
  // read, and was about a quarter of the sink's JavaScript per mail (0.35 of 1.5 s in storeMail
  // for 2,409 mails: bench:rollcall --split under --cpu-prof, 7 December 2026).
  const parsed = await simpleParser(raw, { skipTextToHtml: true, skipTextLinks: true });
  const receivedAt = new Date().toISOString();
  // Time-ordered names so a directory listing is the arrival order.
  const id = `${receivedAt.replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
  const summary: SunkMail = {
    id,
    receivedAt,
    envelope: {
      from: envelope.mailFrom ? envelope.mailFrom.address : null,
      to: envelope.rcptTo.map((r) => r.address),
    },
    messageId: parsed.messageId ?? null,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
  };
  await writeFile(path.join(mailDir, `${id}.eml`), raw);
  await writeFile(path.join(mailDir, `${id}.json`), JSON.stringify(summary, null, 2));
}

/** Every message the sink holds in `mailDir`, oldest first. */
/**
 * Files read at once when listing (chosen). All at once, a sink of a few thousand mails read by
 * twenty callers side by side ran out of file descriptors (EMFILE) in a test run.
 */
const CONCURRENT_READS = 64;

export async function listMail(mailDir: string): Promise<SunkMail[]> {
  return readJsonFiles<SunkMail>(mailDir);
}

/** Every `.json` file in `dir`, parsed, in name order (the sinks name files by arrival). */
export async function readJsonFiles<T>(dir: string): Promise<T[]> {
  const files = (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.json'))
    .sort();
  const items: T[] = [];
  for (let at = 0; at < files.length; at += CONCURRENT_READS) {
    const batch = files.slice(at, at + CONCURRENT_READS);
    items.push(
      ...(await Promise.all(
        batch.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as T),
      )),
    );
  }
  return items;
}

function renderList(mails: SunkMail[]): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = mails
    .slice()
    .reverse()
    .map(
      (m) =>
        `<tr><td>${escape(m.receivedAt)}</td><td>${escape(m.envelope.to.join(', '))}</td><td><details><summary>${escape(m.subject)}</summary><pre>${escape(m.text)}</pre></details></td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>Mail sink</title><style>body{font-family:sans-serif;margin:2rem}td{border-bottom:1px solid #ccc;padding:.4rem;vertical-align:top}</style><h1>Mail sink (${mails.length})</h1><table><thead><tr><th>Received</th><th>To</th><th>Subject</th></tr></thead><tbody>${rows}</tbody></table></html>`;
}
