import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { Translate } from './i18n';

/**
 * The console's views: one Handlebars instance, every template compiled once at start-up (never
 * per request). `{{ }}` escapes; no view uses `{{{ }}}` on data, only on markup the console built
 * itself (the page body inside the layout, SVG charts and diagrams built by escaping code).
 */
export const VIEWS_DIR = path.join(__dirname, 'views');

export interface PageModel {
  /** The page title (already translated). */
  title: string;
  [key: string]: unknown;
}

export interface Renderer {
  render(view: string, model: PageModel, t: Translate): string;
  views(): string[];
}

export function createRenderer(viewsDir: string = VIEWS_DIR): Renderer {
  const hbs = Handlebars.create();
  registerHelpers(hbs);
  const partialsDir = path.join(viewsDir, 'partials');
  for (const file of readdirSync(partialsDir).filter((f) => f.endsWith('.hbs'))) {
    hbs.registerPartial(
      path.basename(file, '.hbs'),
      readFileSync(path.join(partialsDir, file), 'utf8'),
    );
  }
  const compiled = new Map<string, HandlebarsTemplateDelegate>();
  const pagesDir = path.join(viewsDir, 'pages');
  for (const file of readdirSync(pagesDir).filter((f) => f.endsWith('.hbs'))) {
    compiled.set(
      path.basename(file, '.hbs'),
      hbs.compile(readFileSync(path.join(pagesDir, file), 'utf8')),
    );
  }
  const layout = hbs.compile(readFileSync(path.join(viewsDir, 'layout.hbs'), 'utf8'));

  return {
    render(view, model, t) {
      const template = compiled.get(view);
      if (!template) throw new Error(`console view "${view}" does not exist`);
      // The translator travels in the data frame, so helpers in partials and loops reach it.
      const options = { data: { t } };
      const body = template(model, options);
      return layout({ ...model, body }, options);
    },
    views: () => [...compiled.keys()],
  };
}

type HelperOptions = Handlebars.HelperOptions;

function translatorOf(options: HelperOptions): Translate {
  const t = (options.data as { t?: Translate } | undefined)?.t;
  if (!t) throw new Error('console templates are rendered with a translator');
  return t;
}

/** Helpers, one list: each is small and pure. */
function registerHelpers(hbs: typeof Handlebars): void {
  hbs.registerHelper('t', function (this: unknown, key: unknown, options: HelperOptions) {
    return translatorOf(options)(String(key), options.hash as Record<string, unknown>);
  });
  hbs.registerHelper('encode', (value: unknown) =>
    encodeURIComponent(typeof value === 'string' ? value : ''),
  );
  hbs.registerHelper('concat', (...args: unknown[]) =>
    args
      .slice(0, -1)
      .map((a) => (typeof a === 'string' || typeof a === 'number' ? String(a) : ''))
      .join(''),
  );
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('ne', (a: unknown, b: unknown) => a !== b);
  hbs.registerHelper('includes', (list: unknown, item: unknown) =>
    Array.isArray(list) ? list.includes(item) : false,
  );
  hbs.registerHelper('or', (...args: unknown[]) => args.slice(0, -1).some(Boolean));
  hbs.registerHelper('and', (...args: unknown[]) => args.slice(0, -1).every(Boolean));
  hbs.registerHelper('not', (value: unknown) => !value);
}
