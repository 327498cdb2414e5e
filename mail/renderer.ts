import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { contextContractFor } from './contexts';
import { unescapeHtml } from '../common/html-entities';

/**
 * Mail templates: `mail/templates/<name>.hbs`, a `subject:` line, a line with `---`, then the
 * HTML body. Compiled once into one Handlebars instance; `strict` makes a missing field an error
 * instead of an empty hole in a mail to a resident, and `{{ }}` escapes all user data. Templates
 * with a contract in `contexts.ts` get their context checked (and stripped to it) first.
 */

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

export interface MailRenderer {
  readonly templateNames: ReadonlySet<string>;
  render(template: string, context: Record<string, unknown>): RenderedMail;
}

const DEFAULT_TEMPLATE_DIR = path.join(__dirname, 'templates');

/** Helpers available to every template, registered from one list. */
export const templateHelpers: Record<string, Handlebars.HelperDelegate> = {
  /** Formats an ISO instant as Beijing time, e.g. `2026-10-01 09:30`. */
  beijingTime(value: unknown): string {
    const date = new Date(String(value));
    if (Number.isNaN(date.getTime()))
      throw new TemplateError(`beijingTime: "${String(value)}" is not a date`);
    const shifted = new Date(date.getTime() + 8 * 3600_000);
    return shifted.toISOString().slice(0, 16).replace('T', ' ');
  },
};

export function createMailRenderer(templateDir: string = DEFAULT_TEMPLATE_DIR): MailRenderer {
  const handlebars = Handlebars.create();
  for (const [name, helper] of Object.entries(templateHelpers)) {
    handlebars.registerHelper(name, helper);
  }
  const compiled = new Map<
    string,
    { subject: Handlebars.TemplateDelegate; body: Handlebars.TemplateDelegate }
  >();
  for (const file of readdirSync(templateDir).filter((f) => f.endsWith('.hbs'))) {
    const name = file.slice(0, -'.hbs'.length);
    const source = readFileSync(path.join(templateDir, file), 'utf8');
    const match = /^subject:(.*)\r?\n---\r?\n([\s\S]*)$/.exec(source);
    if (!match) {
      throw new TemplateError(`${file}: expected a "subject:" line, then "---", then the body`);
    }
    compiled.set(name, {
      // The subject is plain text, not HTML: escaping would show "&amp;" in mail clients.
      subject: handlebars.compile(match[1]!.trim(), { strict: true, noEscape: true }),
      body: handlebars.compile(match[2]!, { strict: true }),
    });
  }

  return {
    templateNames: new Set(compiled.keys()),
    render(template, context) {
      const entry = compiled.get(template);
      if (!entry) throw new TemplateError(`unknown mail template "${template}"`);
      const input = checkedContext(template, context);
      try {
        const html = entry.body(input);
        return {
          subject: toHeaderValue(entry.subject(input)),
          html,
          text: htmlToText(html),
        };
      } catch (err) {
        if (err instanceof TemplateError) throw err;
        throw new TemplateError(`template "${template}": ${(err as Error).message}`);
      }
    },
  };
}

function checkedContext(
  template: string,
  context: Record<string, unknown>,
): Record<string, unknown> {
  const contract = contextContractFor(template);
  if (!contract) return context;
  const result = contract.safeParse(context);
  if (result.success) return result.data;
  // Zod's messages name the field and the expected type, never the value (personal data).
  const problems = result.error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || '(context)'}: ${issue.message}`,
  );
  throw new TemplateError(`template "${template}": ${problems.join('; ')}`);
}

/**
 * Header values stay on one line: CR, LF and every other control character (C0, DEL, C1 with
 * NEL, and the Unicode line/paragraph separators) become one space, so data cannot start a new
 * header (header injection) or smuggle invisible bytes into a subject or display name.
 */
export function toHeaderValue(value: string): string {
  return value.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim();
}

function htmlToText(html: string): string {
  const text = html
    .replace(/<\s*br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|h[1-6]|li|tr)>/gi, '\n')
    .replace(/<[^>]+>/g, '');
  return unescapeHtml(text)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
