import type { Request, Response } from 'express';

/** Cookies are read by hand: one header, a few names, no dependency for it. */
export function readCookies(req: Request): Map<string, string> {
  const cookies = new Map<string, string>();
  const header = req.headers.cookie;
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    if (cookies.has(name)) continue; // the first (most specific path) wins, as browsers send it
    try {
      cookies.set(name, decodeURIComponent(raw));
    } catch {
      // a malformed value is treated as absent
    }
  }
  return cookies;
}

export interface CookieOptions {
  maxAgeSeconds?: number;
  httpOnly?: boolean;
  sameSite: 'Strict' | 'Lax';
  secure: boolean;
}

export function setCookie(
  res: Response,
  name: string,
  value: string,
  options: CookieOptions,
): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', `SameSite=${options.sameSite}`];
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`);
  if (options.httpOnly !== false) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  res.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(res: Response, name: string, secure: boolean): void {
  setCookie(res, name, '', { maxAgeSeconds: 0, sameSite: 'Lax', secure });
}

/**
 * Whether cookies get `Secure`: always over HTTPS (directly or behind a proxy the app trusts),
 * and on loopback, where browsers accept secure cookies over plain HTTP. `always` forces it,
 * `never` is for an intranet served over plain HTTP on a name (browsers drop secure cookies
 * there).
 */
export function cookieSecurity(req: Request, mode: 'auto' | 'always' | 'never'): boolean {
  if (mode !== 'auto') return mode === 'always';
  if (req.secure) return true;
  const host = req.hostname;
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host === '::1';
}
