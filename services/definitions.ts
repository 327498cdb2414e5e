import { createHash } from 'node:crypto';
import { canonicalJson } from '../common/canonical-json';
import type { Actor } from '../common/case';
import type { DefinitionSnapshot, DefinitionSpec } from '../lang/definition';
import type { SourceFormat } from '../lang/source';
import { locate, validateDefinitionSource } from '../lang/source';
import type { Models } from '../models';
import { isDuplicateKeyError } from '../models';
import { publishFolder } from './definition-folder';
import { AppError } from './errors';
import type { PageRequest } from './paging';
import { skipOf } from './paging';

export interface PublishResult {
  key: string;
  version: number;
  checksum: string;
  /** False when the latest version already had this content, so nothing was written. */
  published: boolean;
}

export type VersionStatus = 'published' | 'retired';

export interface DefinitionSummary {
  key: string;
  /** The latest version's name, or the draft's when nothing is published yet. */
  name: string;
  latestVersion: number | null;
  /** The latest version's status; `draft` when the key has only a draft. */
  status: VersionStatus | 'draft';
  checksum: string | null;
  publishedAt: string | null;
  hasDraft: boolean;
}

export interface VersionSummary {
  version: number;
  name: string;
  status: VersionStatus;
  checksum: string;
  publishedAt: string;
  publishedBy: Actor;
}

export interface VersionView extends VersionSummary {
  key: string;
  format: SourceFormat;
  source: string;
  spec: DefinitionSpec;
}

export interface DraftView {
  key: string;
  name: string;
  checksum: string;
  format: SourceFormat;
  source: string;
  spec: DefinitionSpec;
  savedAt: string;
  savedBy: Actor;
}

interface SourceInput {
  source: string;
  format: SourceFormat;
}

/** Versions, as opposed to the one draft a key may have. */
const VERSION_STATUSES: VersionStatus[] = ['published', 'retired'];

/**
 * Drafts share the definitions collection: `_id` `key@draft`, version 0 (so the unique
 * key/version index allows one per key), status `draft`; `publishedAt`/`publishedBy` hold when
 * and by whom it was saved. Every query for runnable versions asks for status `published`, so a
 * draft never starts a case.
 */
function draftId(key: string): string {
  return `${key}@draft`;
}

/**
 * Definitions are immutable versions. Publishing content that differs from the latest version
 * creates version N+1; publishing the same content again is a no-op. Retiring a process retires
 * all its versions: new cases (and sub-processes) can no longer start it, running cases keep the
 * snapshot they started with, and publishing it again later makes a new version.
 */
/** How long a start reuses the latest published snapshot of a key (see latestSnapshot). */
const STARTABLE_TTL_MS = 5_000;

/** Versions whose snapshots a process keeps before it starts over (chosen). */
const SNAPSHOTS_KEPT = 500;

export function createDefinitionService(
  models: Models,
  knownTemplates: ReadonlySet<string>,
  hooks: DefinitionHooks = {},
) {
  const { Definition } = models;
  /**
   * The snapshot new cases start with, per key, kept for a few seconds: every case start needs
   * it, and versions never change once published. Publishing and retiring through this process
   * drop it at once; another API replica's publish is seen within STARTABLE_TTL_MS.
   */
  const startable = new Map<string, { at: number; snapshot: Promise<DefinitionSnapshot | null> }>();
  const forgetStartable = (key: string) => startable.delete(key);
  /** Snapshots of versions that are not drafts, by `key@version` (they never change). */
  const snapshots = new Map<string, DefinitionSnapshot>();

  async function latest(key: string) {
    return Definition.findOne({ key, status: 'published' }).sort({ version: -1 }).lean();
  }

  async function latestVersion(key: string) {
    return Definition.findOne({ key, status: { $in: VERSION_STATUSES } })
      .sort({ version: -1 })
      .lean();
  }

  /** The spec, or a 422 listing every problem with its line and column. */
  function check(input: SourceInput, expectedKey?: string): DefinitionSpec {
    const result = validateDefinitionSource(input.source, input.format, { knownTemplates });
    if (!result.ok) {
      throw new AppError('unprocessable', 'The definition is not valid', result.problems);
    }
    if (expectedKey !== undefined && result.spec.key !== expectedKey) {
      throw new AppError('unprocessable', `The definition is for "${result.spec.key}"`, [
        {
          path: 'key',
          message: `expected "${expectedKey}", the key this request names`,
          ...locate(input.source, input.format, 'key'),
        },
      ]);
    }
    return result.spec;
  }

  /**
   * A schedule names units of the org tree (`unit`, `under`): each must exist when the version
   * is published, or every fire would fail. A 422 names each missing one with its line.
   */
  async function checkScheduleUnits(input: SourceInput, spec: DefinitionSpec): Promise<void> {
    const schedule = spec.schedule;
    if (schedule === undefined || hooks.missingUnits === undefined) return;
    const named = (['unit', 'under'] as const)
      .map((field) => ({ field, id: schedule[field] }))
      .filter((n): n is { field: 'unit' | 'under'; id: string } => n.id !== undefined);
    if (named.length === 0) return;
    const missing = new Set(await hooks.missingUnits(named.map((n) => n.id)));
    const problems = named
      .filter((n) => missing.has(n.id))
      .map((n) => ({
        path: `schedule.${n.field}`,
        message: `no unit "${n.id}" in the org tree: import it first, or name an existing unit`,
        ...locate(input.source, input.format, `schedule.${n.field}`),
      }));
    if (problems.length > 0) {
      throw new AppError('unprocessable', 'The schedule names units the org tree lacks', problems);
    }
  }

  /**
   * A `recurrence` step (未诉先办) counts the requests of the processes it lists and opens cases of
   * its `definition`: each must have a version (published or retired), or the analysis would
   * count nothing under a mistyped key, or fail at its first fire. A 422 names each unknown one
   * with its line. The shipped files published at start-up are not checked (they name each other,
   * and are published one after the other).
   */
  async function checkRecurrenceProcesses(input: SourceInput, spec: DefinitionSpec): Promise<void> {
    const named = spec.steps.flatMap((step, i) =>
      step.type === 'recurrence'
        ? [
            ...step.cases.definitions.map((key, j) => ({
              path: `steps[${i}].cases.definitions[${j}]`,
              key,
            })),
            { path: `steps[${i}].definition`, key: step.definition },
          ]
        : [],
    );
    const problems = [];
    for (const { path, key } of named) {
      if (key === spec.key || (await latestVersion(key))) continue;
      problems.push({
        path,
        message: `no process "${key}" has been published: publish it first, or correct the key`,
        ...locate(input.source, input.format, path),
      });
    }
    if (problems.length > 0) {
      throw new AppError(
        'unprocessable',
        'The recurrence analysis names processes that do not exist',
        problems,
      );
    }
  }

  /**
   * An assessment (条块考核) reads the cases of the processes it names: each must be published
   * when the version is, or its figures would silently leave them out. A 422 names each unknown
   * one with its line. (Start-up publishes the shipped files in any order, so it skips this.)
   */
  async function checkAssessedProcesses(input: SourceInput, spec: DefinitionSpec): Promise<void> {
    const named = spec.steps.flatMap((step, i) =>
      step.type === 'assessment'
        ? step.cases.definitions.map((key, j) => ({
            key,
            path: `steps[${i}].cases.definitions[${j}]`,
          }))
        : [],
    );
    if (named.length === 0) return;
    const keys = [...new Set(named.map((n) => n.key))].sort();
    const found = await Definition.find(
      { key: { $in: keys }, status: 'published' },
      { key: 1 },
    ).lean();
    const published = new Set(found.map((d) => d.key));
    const problems = named
      .filter((n) => !published.has(n.key) && n.key !== spec.key)
      .map((n) => ({
        path: n.path,
        message: `unknown process "${n.key}": publish it first, or name a published process`,
        ...locate(input.source, input.format, n.path),
      }));
    if (problems.length > 0) {
      throw new AppError('unprocessable', 'The assessment names unknown processes', problems);
    }
  }

  async function summaryOf(key: string): Promise<DefinitionSummary> {
    const [current, draft] = await Promise.all([
      latestVersion(key),
      Definition.findById(draftId(key)).lean(),
    ]);
    if (!current && !draft) throw new AppError('not_found', `No definition "${key}"`);
    return {
      key,
      name: current?.name ?? draft!.name,
      latestVersion: current?.version ?? null,
      status: (current?.status as VersionStatus | undefined) ?? 'draft',
      checksum: current?.checksum ?? null,
      publishedAt: current?.publishedAt.toISOString() ?? null,
      hasDraft: draft !== null,
    };
  }

  const service = {
    /** Checks a source without storing anything. */
    validate(input: SourceInput): { key: string; name: string; checksum: string } {
      const spec = check(input);
      return { key: spec.key, name: spec.name, checksum: checksumOf(spec) };
    },

    /**
     * Stores a valid source as the draft of its key, replacing any earlier draft. A draft is
     * never run; publishing it makes the next version.
     */
    async saveDraft(input: SourceInput & { savedBy: Actor }) {
      const spec = check(input);
      const checksum = checksumOf(spec);
      const savedAt = new Date();
      const result = await Definition.replaceOne(
        { _id: draftId(spec.key) },
        {
          _id: draftId(spec.key),
          key: spec.key,
          version: 0,
          checksum,
          name: spec.name,
          spec,
          source: input.source,
          sourceFormat: input.format,
          status: 'draft',
          publishedAt: savedAt,
          publishedBy: input.savedBy,
        },
        { upsert: true },
      );
      const draft: DraftView = {
        key: spec.key,
        name: spec.name,
        checksum,
        format: input.format,
        source: input.source,
        spec,
        savedAt: savedAt.toISOString(),
        savedBy: input.savedBy,
      };
      return { created: result.upsertedCount > 0, draft };
    },

    async getDraft(key: string): Promise<DraftView> {
      const doc = await Definition.findById(draftId(key)).lean();
      if (!doc) throw new AppError('not_found', `No draft of "${key}"`);
      return {
        key: doc.key,
        name: doc.name,
        checksum: doc.checksum,
        format: doc.sourceFormat,
        source: doc.source,
        spec: doc.spec as DefinitionSpec,
        savedAt: doc.publishedAt.toISOString(),
        savedBy: doc.publishedBy as Actor,
      };
    },

    async deleteDraft(key: string): Promise<void> {
      const result = await Definition.deleteOne({ _id: draftId(key) });
      if (result.deletedCount === 0) throw new AppError('not_found', `No draft of "${key}"`);
    },

    /**
     * Publishes a source as the next version of its key (of `key` when given: the source must
     * be for it). Used by the API and by start-up for the shipped files.
     */
    async publish(
      input: SourceInput & { publishedBy: Actor; key?: string; skipUnitCheck?: boolean },
    ): Promise<PublishResult> {
      const spec = check(input, input.key);
      if (!input.skipUnitCheck) {
        await checkScheduleUnits(input, spec);
        await checkRecurrenceProcesses(input, spec);
        await checkAssessedProcesses(input, spec);
      }
      const checksum = checksumOf(spec);
      // Two publishers may race for the same version; the unique index lets one win, the other
      // re-reads and either sees its content published or takes the next number.
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await latestVersion(spec.key);
        if (current && current.checksum === checksum && current.status === 'published') {
          // Publishing again repairs what follows from the version (its schedule) if it failed.
          await hooks.changed?.(spec.key);
          return { key: spec.key, version: current.version, checksum, published: false };
        }
        const version = (current?.version ?? 0) + 1;
        try {
          await Definition.create({
            _id: `${spec.key}@${version}`,
            key: spec.key,
            version,
            checksum,
            name: spec.name,
            spec,
            source: input.source,
            sourceFormat: input.format,
            status: 'published',
            publishedAt: new Date(),
            publishedBy: input.publishedBy,
          });
          forgetStartable(spec.key);
          await hooks.changed?.(spec.key);
          return { key: spec.key, version, checksum, published: true };
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
        }
      }
      throw new AppError(
        'conflict',
        `Definition "${spec.key}" is being published concurrently; retry`,
      );
    },

    /** Publishes the key's draft (checked again) and discards it, unless it changed meanwhile. */
    async publishDraft(key: string, publishedBy: Actor): Promise<PublishResult> {
      const draft = await Definition.findById(draftId(key)).lean();
      if (!draft) {
        throw new AppError(
          'not_found',
          `No draft of "${key}" to publish: save one first, or send the source to publish`,
        );
      }
      const result = await service.publish({
        source: draft.source,
        format: draft.sourceFormat,
        publishedBy,
        key,
      });
      await Definition.deleteOne({ _id: draftId(key), checksum: draft.checksum });
      return result;
    },

    /**
     * Checks a source without storing anything, like `validate`, and also answers the spec as
     * validated (defaults filled in): the console draws it before it is saved.
     */
    preview(input: SourceInput): {
      key: string;
      name: string;
      checksum: string;
      spec: DefinitionSpec;
    } {
      const spec = check(input);
      return { key: spec.key, name: spec.name, checksum: checksumOf(spec), spec };
    },

    /** Every key with its latest version (or only a draft), by key. */
    async list(): Promise<DefinitionSummary[]> {
      return summarize(
        await Definition.find(
          {},
          { key: 1, version: 1, name: 1, status: 1, checksum: 1, publishedAt: 1 },
        ).lean(),
      );
    },

    /**
     * One page of `list`: the keys in order, then the versions of only the page's keys (the
     * console's definitions list; `list` reads every version of every key).
     */
    async listPage(query: PageRequest): Promise<{
      items: DefinitionSummary[];
      page: number;
      pageSize: number;
      total: number;
    }> {
      const keys = (await Definition.distinct('key'))
        .filter((k): k is string => typeof k === 'string')
        .sort();
      const pageKeys = keys.slice(skipOf(query), skipOf(query) + query.pageSize);
      const items =
        pageKeys.length === 0
          ? []
          : summarize(
              await Definition.find(
                { key: { $in: pageKeys } },
                { key: 1, version: 1, name: 1, status: 1, checksum: 1, publishedAt: 1 },
              ).lean(),
            );
      return { items, page: query.page, pageSize: query.pageSize, total: keys.length };
    },

    /** The versions of a key, newest first (empty when it has only a draft). */
    async versions(key: string): Promise<VersionSummary[]> {
      const docs = await Definition.find(
        { key, status: { $in: VERSION_STATUSES } },
        { version: 1, name: 1, status: 1, checksum: 1, publishedAt: 1, publishedBy: 1 },
      ).lean();
      if (docs.length === 0) await summaryOf(key); // 404 unless a draft exists
      return docs
        .sort((a, b) => b.version - a.version)
        .map((doc) => ({
          version: doc.version,
          name: doc.name,
          status: doc.status as VersionStatus,
          checksum: doc.checksum,
          publishedAt: doc.publishedAt.toISOString(),
          publishedBy: doc.publishedBy as Actor,
        }));
    },

    async getVersion(key: string, version: number): Promise<VersionView> {
      const doc = await Definition.findById(`${key}@${version}`).lean();
      if (!doc || doc.status === 'draft') {
        throw new AppError('not_found', `No version ${version} of "${key}"`);
      }
      return {
        key: doc.key,
        version: doc.version,
        name: doc.name,
        status: doc.status,
        checksum: doc.checksum,
        publishedAt: doc.publishedAt.toISOString(),
        publishedBy: doc.publishedBy as Actor,
        format: doc.sourceFormat,
        source: doc.source,
        spec: doc.spec as DefinitionSpec,
      };
    },

    /**
     * Retires every published version of a key. Retiring only the latest would let the one
     * before it start new cases again, since starts take the latest published version.
     */
    async retire(key: string): Promise<DefinitionSummary> {
      const current = await latestVersion(key);
      if (!current) throw new AppError('not_found', `No published definition "${key}"`);
      await Definition.updateMany({ key, status: 'published' }, { $set: { status: 'retired' } });
      forgetStartable(key);
      await hooks.changed?.(key);
      return summaryOf(key);
    },

    /** The snapshot a new case starts with: the latest published version of `key`. */
    async latestSnapshot(key: string): Promise<DefinitionSnapshot | null> {
      const now = Date.now();
      const known = startable.get(key);
      if (known && now - known.at < STARTABLE_TTL_MS) return known.snapshot;
      const loading = latest(key).then((doc) => (doc ? snapshotOf(doc) : null));
      const entry = { at: now, snapshot: loading };
      startable.set(key, entry);
      // Neither a failed read nor "none published" is kept: a process published a moment later
      // (by another replica) must be startable at once.
      loading.then(
        (snapshot) => {
          if (snapshot === null && startable.get(key) === entry) startable.delete(key);
        },
        () => {
          if (startable.get(key) === entry) startable.delete(key);
        },
      );
      return loading;
    },

    /** The latest published version of every process that may start cases, by key. */
    async latestSnapshots(): Promise<DefinitionSnapshot[]> {
      const versions = await Definition.find(
        { status: 'published' },
        { key: 1, version: 1 },
      ).lean();
      const latestByKey = new Map<string, number>();
      for (const { key, version } of versions) {
        if (version > (latestByKey.get(key) ?? 0)) latestByKey.set(key, version);
      }
      const ids = [...latestByKey].map(([key, version]) => `${key}@${version}`);
      if (ids.length === 0) return [];
      const docs = await Definition.find({ _id: { $in: ids } }).lean();
      return docs
        .map((doc) => snapshotOf(doc))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    /** One version as cases of it carry it (published or retired), or null. */
    async snapshot(key: string, version: number): Promise<DefinitionSnapshot | null> {
      const id = `${key}@${version}`;
      const known = snapshots.get(id);
      if (known) return known;
      const doc = await Definition.findById(id).lean();
      if (!doc || doc.status === 'draft') return null;
      // A version's spec never changes once it is not a draft (retiring changes its status
      // only), so it is kept: each report-in to a roll-call asks for its step (bench:rollcall).
      if (snapshots.size >= SNAPSHOTS_KEPT) snapshots.clear();
      const snapshot = snapshotOf(doc);
      snapshots.set(id, snapshot);
      return snapshot;
    },

    /**
     * Publishes every definition file of a folder (see isDefinitionFile) whose content changed.
     * Their schedules' units are not checked: start-up publishes before the org may be imported.
     */
    publishFolder: (dir: string, publishedBy: Actor): Promise<PublishResult[]> =>
      publishFolder(dir, (file) => service.publish({ ...file, publishedBy, skipUnitCheck: true })),
  };
  return service;
}

export type DefinitionService = ReturnType<typeof createDefinitionService>;

/** What else follows a key's published versions (its Temporal Schedule, services/schedules.ts). */
export interface DefinitionHooks {
  /** After a version was published (or published again) or the key retired. */
  changed?(key: string): Promise<unknown>;
  /** Which of these unit ids the org tree lacks (a schedule's `unit` and `under`). */
  missingUnits?(unitIds: readonly string[]): Promise<string[]>;
}

/** Summaries by key from the version (and draft) documents of those keys, by key. */
function summarize(
  docs: ReadonlyArray<{
    key: string;
    version: number;
    name: string;
    status: string;
    checksum: string;
    publishedAt: Date;
  }>,
): DefinitionSummary[] {
  const byKey = new Map<string, DefinitionSummary>();
  for (const doc of [...docs].sort((a, b) => b.version - a.version)) {
    const summary = byKey.get(doc.key);
    if (doc.status === 'draft') {
      if (summary) summary.hasDraft = true;
      else byKey.set(doc.key, draftOnly(doc.key, doc.name));
    } else if (!summary || summary.latestVersion === null) {
      byKey.set(doc.key, {
        key: doc.key,
        name: doc.name,
        latestVersion: doc.version,
        status: doc.status as VersionStatus,
        checksum: doc.checksum,
        publishedAt: doc.publishedAt.toISOString(),
        hasDraft: summary?.hasDraft ?? false,
      });
    }
  }
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function draftOnly(key: string, name: string): DefinitionSummary {
  return {
    key,
    name,
    latestVersion: null,
    status: 'draft',
    checksum: null,
    publishedAt: null,
    hasDraft: true,
  };
}

function snapshotOf(doc: {
  key: string;
  version: number;
  checksum: string;
  spec: unknown;
}): DefinitionSnapshot {
  return {
    key: doc.key,
    version: doc.version,
    checksum: doc.checksum,
    spec: doc.spec as DefinitionSpec,
  };
}

/** Checksum of the parsed content, so reformatting a file does not make a new version. */
export function checksumOf(spec: DefinitionSpec): string {
  return `sha256:${createHash('sha256').update(canonicalJson(spec)).digest('hex')}`;
}
