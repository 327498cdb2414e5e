import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { maskIdentifiers, maskValue } from '../lang/mask';
import { contextContractFor } from '../mail/contexts';
import { TemplateError, templateHelpers } from '../mail/renderer';

/**
 * Short texts for the channels other than mail (SMS, WeCom and DingTalk robots):
 * `channels/templates/<name>.hbs`, named as the mail template of the same notification kind, with
 * a `title:` line, an `sms:` line (the context keys passed as the SMS template's parameters, in
 * order), `---`, then a short markdown body (zh-CN). Compiled with `strict` as the mail is, and
 * the context is checked against the same contract (mail/contexts.ts) first.
 *
 * Group posts (robots) are read by everyone in the group: their text has phone and identity
 * numbers masked (lang/mask.ts), templates show no resident data (no `data.*`, no requester),
 * and staff names appear only through `{{masked …}}` (张*).
 */
export interface RenderedShortMessage {
  title: string;
  /** Markdown, for robots. */
  markdown: string;
  /** The same without markdown marks, for a robot that takes text. */
  text: string;
  /** The SMS template's parameters, each a short string. */
  smsParams: Record<string, string>;
}

export interface ShortMessageRenderer {
  readonly templateNames: ReadonlySet<string>;
  render(
    template: string,
    context: Record<string, unknown>,
    options?: { group?: boolean },
  ): RenderedShortMessage;
}

const DEFAULT_TEMPLATE_DIR = path.join(__dirname, 'templates');

/** SMS parameters longer than this are cut (chosen: providers commonly cap a variable at 20–35 characters). */
export const MAX_SMS_PARAM_CHARS = 20;

/** A generic text for a notification kind without a short template of its own. */
const FALLBACK = {
  title: '事项通知',
  sms: ['caseId'],
  body: '### 事项通知\n编号 {{caseId}} 的事项有新的进展，请登录社区治理服务平台查看。\n',
};

export function createShortMessageRenderer(
  templateDir: string = DEFAULT_TEMPLATE_DIR,
): ShortMessageRenderer {
  const handlebars = Handlebars.create();
  for (const [name, helper] of Object.entries(templateHelpers)) {
    handlebars.registerHelper(name, helper);
  }
  /** A staff member's name in a group: the first character and stars (lang/mask.ts). */
  handlebars.registerHelper('masked', (value: unknown) => maskValue('text', value ?? ''));
  const compile = (source: string) => handlebars.compile(source, { strict: true, noEscape: true });
  const compiled = new Map<
    string,
    { title: Handlebars.TemplateDelegate; body: Handlebars.TemplateDelegate; sms: string[] }
  >();
  for (const file of readdirSync(templateDir).filter((f) => f.endsWith('.hbs'))) {
    const name = file.slice(0, -'.hbs'.length);
    const source = readFileSync(path.join(templateDir, file), 'utf8');
    const match = /^title:(.*)\r?\nsms:(.*)\r?\n---\r?\n([\s\S]*)$/.exec(source);
    if (!match) {
      throw new TemplateError(
        `${file}: expected a "title:" line, an "sms:" line, then "---", then the body`,
      );
    }
    compiled.set(name, {
      title: compile(match[1]!.trim()),
      sms: match[2]!.trim().split(/\s+/).filter(Boolean),
      body: compile(match[3]!),
    });
  }
  const fallback = {
    title: compile(FALLBACK.title),
    sms: FALLBACK.sms,
    body: compile(FALLBACK.body),
  };

  return {
    templateNames: new Set(compiled.keys()),
    render(template, context, options = {}) {
      const entry = compiled.get(template) ?? fallback;
      const contract = contextContractFor(template);
      let input = context;
      if (contract) {
        const checked = contract.safeParse(context);
        if (!checked.success) {
          const problems = checked.error.issues.map(
            (issue) => `${issue.path.map(String).join('.') || '(context)'}: ${issue.message}`,
          );
          throw new TemplateError(`short template "${template}": ${problems.join('; ')}`);
        }
        input = checked.data;
      }
      try {
        const clean = (text: string) => (options.group ? maskIdentifiers(text) : text);
        const markdown = clean(
          entry
            .body(input)
            .replace(/\n{2,}/g, '\n')
            .trim(),
        );
        const smsParams: Record<string, string> = {};
        for (const key of entry.sms) {
          smsParams[key] = smsParam(input[key]);
        }
        return {
          title: clean(entry.title(input).replace(/\s+/g, ' ').trim()),
          markdown,
          text: markdownToText(markdown),
          smsParams,
        };
      } catch (err) {
        if (err instanceof TemplateError) throw err;
        throw new TemplateError(`short template "${template}": ${(err as Error).message}`);
      }
    },
  };
}

/** One SMS parameter: instants as Beijing time, everything short and free of identifiers. */
function smsParam(value: unknown): string {
  if (value === undefined || value === null) return '';
  // Parameters are the context's scalars; a list or an object has no place in a text message.
  let text =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : '';
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    text = String(templateHelpers.beijingTime!(value, {}));
  }
  text = maskIdentifiers(text);
  return [...text].length > MAX_SMS_PARAM_CHARS
    ? `${[...text].slice(0, MAX_SMS_PARAM_CHARS - 1).join('')}…`
    : text;
}

function markdownToText(markdown: string): string {
  return markdown
    .replace(/^#+\s*/gm, '')
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1：$2');
}
