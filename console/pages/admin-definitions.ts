import { AppError } from '../../services/errors';
import type { VersionSummary } from '../../services/definitions';
import type { Actor } from '../../common/case';
import { actorOf } from '../../services/auth';
import type { DefinitionSpec } from '../../lang/definition';
import type { SourceFormat } from '../../lang/source';
import {
  NEW_DEFINITION_PLACEHOLDER,
  definitionPath,
  keyProblem,
  summaryRow,
  diagramOf,
  gutterOf,
  isSourceFormat,
  numberedLines,
  problemViews,
  stepRows,
} from '../admin-definition-view';
import { formatInstant, pageNumber, pagerOf } from '../format';
import type { ConsoleKit } from '../kit';
import type { PageContext, PageResult } from '../pipeline';
import { BASE, doneNotice, field } from '../pipeline';

/** Processes per page: 50 (chosen) keeps the shipped library (38 processes) on one page. */
const PAGE_SIZE = 50;
const VERSIONS_PAGE_SIZE = 10;
/** As the API's `source` (api/routes/definitions.ts). */
const MAX_SOURCE = 500_000;
const KEY = /^[a-z][a-z0-9-]{1,62}$/;
const ACTIONS = ['validate', 'draft', 'publish'] as const;
type EditorAction = (typeof ACTIONS)[number];
/** Confirmations carried across a redirect: only these names, translated here. */
const DONE = ['published', 'unchanged', 'draftSaved', 'retired', 'draftDiscarded'] as const;

interface EditorState {
  /** The key being edited, or null for a new definition. */
  key: string | null;
  source: string;
  format: SourceFormat;
  /** Where the text came from, when it was loaded rather than typed. */
  loadedFrom?: string;
  /** Another source the editor can load instead (the latest version when a draft was loaded). */
  alternative?: { href: string; label: string };
  error?: AppError;
  valid?: { key: string; name: string; checksum: string; spec: DefinitionSpec };
  notice?: string | null;
}

/**
 * Process definitions for admins: the list, a definition with its versions, source, steps and
 * diagram, and the editor (validate, save a draft, publish version N+1) whose problems are shown
 * at their lines. Every call goes to the DefinitionService the API uses.
 */
export function registerDefinitionPages({ pages, services }: ConsoleKit): void {
  const definitions = services.definitions;

  pages.add({
    method: 'get',
    path: '/admin/definitions',
    access: ['admin'],
    handle: async (ctx) => {
      const page = pageNumber(ctx.query.page);
      const listed = await definitions.listPage({ page, pageSize: PAGE_SIZE });
      return {
        view: 'admin-definitions',
        model: {
          title: ctx.t('admin.def.title'),
          rows: listed.items.map((d) => summaryRow(d, ctx.t)),
          pager: pagerOf(`${BASE}/admin/definitions`, {}, page, PAGE_SIZE, listed.total),
        },
      };
    },
  });

  pages.add({
    method: 'get',
    path: '/admin/definitions/new',
    access: ['admin'],
    handle: (ctx) => editor(ctx, { key: null, source: '', format: 'yaml' }),
  });

  pages.add({
    method: 'post',
    path: '/admin/definitions/new',
    access: ['admin'],
    limit: 'definition-validate',
    handle: (ctx) => submit(ctx, null),
  });

  pages.add({
    method: 'get',
    path: '/admin/definitions/:key',
    access: ['admin'],
    handle: async (ctx) => {
      const key = keyOf(ctx);
      const versions = await definitions.versions(key);
      const draft = await draftOrNull(key);
      const asked = Number.parseInt(ctx.query.version ?? '', 10);
      const shownVersion = Number.isInteger(asked) ? asked : versions[0]?.version;
      const shown =
        shownVersion !== undefined ? await definitions.getVersion(key, shownVersion) : null;
      const source = shown ?? draft!;
      const steps = stepRows(source.spec, ctx.t);
      const page = pageNumber(ctx.query.page);
      const latest = versions[0];
      const versionRows = await Promise.all(
        versions
          .slice((page - 1) * VERSIONS_PAGE_SIZE, page * VERSIONS_PAGE_SIZE)
          .map(async (v) => versionRow(v, key, shown?.version ?? null, ctx)),
      );
      return {
        view: 'admin-definition',
        model: {
          title: `${source.name} (${key})`,
          key,
          name: source.name,
          description: source.spec.description ?? '',
          latest: latest
            ? {
                version: latest.version,
                status: latest.status,
                statusLabel: ctx.t(`admin.status.${latest.status}`),
                publishedAt: formatInstant(latest.publishedAt),
              }
            : null,
          retirable: latest?.status === 'published',
          draft: draft
            ? { savedAt: formatInstant(draft.savedAt), savedBy: await actorName(draft.savedBy) }
            : null,
          shown: shown
            ? {
                version: shown.version,
                isLatest: shown.version === latest?.version,
                checksum: shown.checksum,
                status: ctx.t(`admin.status.${shown.status}`),
              }
            : null,
          format: source.format.toUpperCase(),
          lines: numberedLines(source.source),
          steps,
          stepCount: steps.length,
          diagram: diagramOf(source.spec, ctx.t, 'definition'),
          versions: versionRows,
          versionsPager: pagerOf(
            `${BASE}/admin/definitions/${encodeURIComponent(key)}`,
            { version: ctx.query.version },
            page,
            VERSIONS_PAGE_SIZE,
            versions.length,
          ),
          notice: noticeOf(ctx),
          retireQuestion: ctx.t('admin.def.retireConfirm', { key }),
          discardQuestion: ctx.t('admin.def.discardConfirm', { key }),
        },
      };
    },
  });

  pages.add({
    method: 'get',
    path: '/admin/definitions/:key/edit',
    access: ['admin'],
    handle: async (ctx) => {
      const key = keyOf(ctx);
      const versions = await definitions.versions(key);
      const draft = ctx.query.from === 'latest' ? null : await draftOrNull(key);
      const latest = versions[0];
      if (draft) {
        return editor(ctx, {
          key,
          source: draft.source,
          format: draft.format,
          loadedFrom: ctx.t('admin.edit.fromDraft', { at: formatInstant(draft.savedAt) }),
          ...(latest
            ? {
                alternative: {
                  href: `${BASE}/admin/definitions/${encodeURIComponent(key)}/edit?from=latest`,
                  label: ctx.t('admin.edit.loadLatest', { version: latest.version }),
                },
              }
            : {}),
          notice: noticeOf(ctx),
        });
      }
      if (!latest) throw new AppError('not_found', ctx.t('admin.def.notFound', { key }));
      const version = await definitions.getVersion(key, latest.version);
      return editor(ctx, {
        key,
        source: version.source,
        format: version.format,
        loadedFrom: ctx.t('admin.edit.fromVersion', { version: version.version }),
        notice: noticeOf(ctx),
      });
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/definitions/:key/edit',
    access: ['admin'],
    limit: 'definition-validate',
    handle: (ctx) => submit(ctx, keyOf(ctx)),
  });

  pages.add({
    method: 'post',
    path: '/admin/definitions/:key/retire',
    access: ['admin'],
    handle: async (ctx) => {
      const key = keyOf(ctx);
      await definitions.retire(key);
      return { redirect: `${definitionPath(key)}?done=retired` };
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/definitions/:key/draft/delete',
    access: ['admin'],
    handle: async (ctx) => {
      const key = keyOf(ctx);
      await definitions.deleteDraft(key);
      return { redirect: `${definitionPath(key)}?done=draftDiscarded` };
    },
  });

  /** Validate, save a draft or publish what the editor holds; problems re-render the editor. */
  async function submit(ctx: PageContext, key: string | null): Promise<PageResult> {
    const source = field(ctx.form, 'source').replace(/\r\n?/g, '\n');
    const requested = field(ctx.form, 'format');
    const format: SourceFormat = isSourceFormat(requested) ? requested : 'yaml';
    const action = (ACTIONS as readonly string[]).includes(field(ctx.form, 'action'))
      ? (field(ctx.form, 'action') as EditorAction)
      : 'validate';
    const state: EditorState = { key, source, format };
    try {
      if (source.trim() === '') {
        throw new AppError('unprocessable', ctx.t('admin.edit.empty'), [
          { path: 'source', message: ctx.t('admin.edit.empty') },
        ]);
      }
      if (source.length > MAX_SOURCE) {
        throw new AppError('payload_too_large', ctx.t('admin.edit.tooLarge', { max: MAX_SOURCE }));
      }
      const checked = definitions.preview({ source, format });
      if (key !== null && checked.key !== key) {
        throw keyProblem(ctx.t('admin.edit.otherKey', { key, found: checked.key }), source, format);
      }
      if (key === null && action !== 'validate' && (await exists(checked.key))) {
        throw keyProblem(ctx.t('admin.edit.keyTaken', { key: checked.key }), source, format);
      }
      const by = actorOf(ctx.principal!);
      if (action === 'validate') {
        return editor(ctx, { ...state, valid: checked });
      }
      if (action === 'draft') {
        await definitions.saveDraft({ source, format, savedBy: by });
        return { redirect: `${definitionPath(checked.key)}/edit?done=draftSaved` };
      }
      const result = await definitions.publish({
        source,
        format,
        publishedBy: by,
        key: checked.key,
      });
      // Publishing what the draft holds settles the draft, as publishing the draft itself does.
      const draft = await draftOrNull(checked.key);
      if (draft && draft.checksum === result.checksum) await definitions.deleteDraft(checked.key);
      const done = result.published ? 'published' : 'unchanged';
      return {
        redirect: `${definitionPath(result.key)}?done=${done}&version=${result.version}`,
      };
    } catch (err) {
      // Whatever went wrong, the author keeps the text they typed.
      if (err instanceof AppError) return editor(ctx, { ...state, error: err });
      throw err;
    }
  }

  function editor(ctx: PageContext, state: EditorState): PageResult {
    const { problems, lines } = state.error
      ? problemViews(state.error.details, state.source)
      : { problems: [], lines: new Set<number>() };
    const { rows, gutter } = gutterOf(state.source, lines);
    const action =
      state.key === null ? `${BASE}/admin/definitions/new` : `${definitionPath(state.key)}/edit`;
    const invalid = state.error?.kind === 'unprocessable' && problems.length > 0;
    return {
      status: state.error ? state.error.status : 200,
      view: 'admin-definition-edit',
      model: {
        title: state.key
          ? ctx.t('admin.edit.title', { key: state.key })
          : ctx.t('admin.edit.newTitle'),
        key: state.key,
        isNew: state.key === null,
        action,
        source: state.source,
        placeholder: state.key === null ? NEW_DEFINITION_PLACEHOLDER : '',
        formats: (['yaml', 'json'] as const).map((f) => ({
          value: f,
          label: f.toUpperCase(),
          selected: f === state.format,
        })),
        rows,
        gutter,
        loadedFrom: state.loadedFrom ?? null,
        alternative: state.alternative ?? null,
        notice: state.notice ?? null,
        failure: state.error
          ? {
              heading: invalid
                ? ctx.t('admin.edit.invalid', { n: problems.length })
                : ctx.t('admin.edit.failed'),
              message: state.error.message,
              problems,
            }
          : null,
        valid: state.valid
          ? {
              key: state.valid.key,
              name: state.valid.name,
              checksum: state.valid.checksum,
              diagram: diagramOf(state.valid.spec, ctx.t, 'preview'),
              steps: stepRows(state.valid.spec, ctx.t),
            }
          : null,
      },
    };
  }

  function keyOf(ctx: PageContext): string {
    const key = String(ctx.req.params.key);
    if (!KEY.test(key)) throw new AppError('not_found', ctx.t('admin.def.notFound', { key }));
    return key;
  }

  async function draftOrNull(key: string) {
    try {
      return await definitions.getDraft(key);
    } catch (err) {
      if (err instanceof AppError && err.kind === 'not_found') return null;
      throw err;
    }
  }

  /** Whether the key has a version or a draft (`versions` is a 404 when it has neither). */
  async function exists(key: string): Promise<boolean> {
    try {
      await definitions.versions(key);
      return true;
    } catch (err) {
      if (err instanceof AppError && err.kind === 'not_found') return false;
      throw err;
    }
  }

  async function actorName(actor: Actor): Promise<string> {
    if (actor.kind !== 'user' && actor.kind !== 'apiKey') return actor.id;
    return services.accounts.displayNameOf({
      kind: actor.kind,
      id: actor.id,
      roles: [],
      unitIds: [],
    });
  }

  async function versionRow(
    v: VersionSummary,
    key: string,
    shown: number | null,
    ctx: PageContext,
  ) {
    return {
      version: v.version,
      href: `${definitionPath(key)}?version=${v.version}`,
      current: v.version === shown,
      status: v.status,
      statusLabel: ctx.t(`admin.status.${v.status}`),
      publishedAt: formatInstant(v.publishedAt),
      publishedBy: await actorName(v.publishedBy),
      checksum: v.checksum.replace(/^sha256:/, '').slice(0, 12),
    };
  }

  function noticeOf(ctx: PageContext): string | null {
    const version = Number.parseInt(ctx.query.version ?? '', 10);
    return doneNotice(ctx, DONE, 'admin.def.done.', {
      version: Number.isInteger(version) ? version : '',
    });
  }
}
