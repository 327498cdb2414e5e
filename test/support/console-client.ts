import { unescapeHtml } from '../../common/html-entities';

/**
 * A browser-less client for console pages in integration tests: keeps cookies like a browser,
 * reads the CSRF token from the page it fetched last and sends it with the next form. The real
 * browser flows are in test/browser/; this is for checking a page's content and rules quickly.
 */
export interface ConsolePage {
  status: number;
  html: string;
  location: string | null;
  headers: Headers;
}

export interface ConsoleClient {
  /** Uses an API session token (from `TestApp.signIn`) as the console session cookie. */
  useSession(token: string): void;
  get(path: string): Promise<ConsolePage>;
  /** Posts a form with the CSRF token of the last page fetched (fetch one first). */
  post(path: string, fields: Record<string, string | string[]>): Promise<ConsolePage>;
  /** Posts a `multipart/form-data` form with files (a phone's camera input), with the CSRF token. */
  postMultipart(
    path: string,
    fields: Record<string, string | string[]>,
    files: Array<{ field: string; filename: string; type: string; bytes: Buffer }>,
  ): Promise<ConsolePage>;
  cookie(name: string): string | undefined;
}

export function consoleClient(baseUrl: string): ConsoleClient {
  const jar = new Map<string, string>();
  let csrf = '';

  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = decodeURIComponent(pair!.slice(eq + 1));
      if (/Max-Age=0/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  const headers = (): Record<string, string> => ({
    cookie: [...jar].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('; '),
  });
  const page = async (res: Response): Promise<ConsolePage> => {
    remember(res);
    const html = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(html);
    if (token) csrf = token[1]!;
    return {
      status: res.status,
      html,
      location: res.headers.get('location'),
      headers: res.headers,
    };
  };

  return {
    useSession(token) {
      jar.set('gf_session', token);
    },
    async get(path) {
      return page(await fetch(`${baseUrl}${path}`, { headers: headers(), redirect: 'manual' }));
    },
    async post(path, fields) {
      const body = new URLSearchParams();
      body.append('_csrf', csrf);
      for (const [k, v] of Object.entries(fields)) {
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      }
      return page(
        await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: { ...headers(), 'content-type': 'application/x-www-form-urlencoded' },
          body: body.toString(),
          redirect: 'manual',
        }),
      );
    },
    async postMultipart(path, fields, files) {
      const body = new FormData();
      body.append('_csrf', csrf);
      for (const [k, v] of Object.entries(fields)) {
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      }
      for (const file of files) {
        body.append(
          file.field,
          new Blob([new Uint8Array(file.bytes)], { type: file.type }),
          file.filename,
        );
      }
      return page(
        await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: headers(),
          body,
          redirect: 'manual',
        }),
      );
    },
    cookie: (name) => jar.get(name),
  };
}

/** The text of an HTML page without tags, whitespace collapsed: for `toContain` checks. */
export function textOf(html: string): string {
  const text = html.replace(/<script[\s\S]*?<\/script>/g, ' ').replace(/<[^>]+>/g, ' ');
  return unescapeHtml(text).replace(/\s+/g, ' ').trim();
}
