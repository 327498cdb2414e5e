import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { Actor } from '../../common/case';
import type { DefinitionSnapshot, DefinitionSpec } from '../../common/definition';
import { validateDefinition } from '../../common/definition';
import type { Models } from '../../models';
import { isDuplicateKeyError } from '../../models';
import { AppError } from '../errors';

export const SHIPPED_DEFINITIONS_DIR = path.resolve(__dirname, '..', '..', 'definitions');

export interface PublishResult {
  key: string;
  version: number;
  checksum: string;
  /** False when the latest version already had this content, so nothing was written. */
  published: boolean;
}

/**
 * Definitions are immutable versions. Publishing content that differs from the latest version
 * creates version N+1; publishing the same content again is a no-op.
 */
export function createDefinitionService(models: Models, knownTemplates: ReadonlySet<string>) {
  const { Definition } = models;

  async function latest(key: string) {
    return Definition.findOne({ key, status: 'published' }).sort({ version: -1 }).lean();
  }

  return {
    async publish(input: {
      source: string;
      format: 'yaml' | 'json';
      publishedBy: Actor;
    }): Promise<PublishResult> {
      const raw = parseSource(input.source, input.format);
      const result = validateDefinition(raw, { knownTemplates });
      if (!result.ok) {
        throw new AppError('unprocessable', 'The definition is not valid', result.problems);
      }
      const spec = result.spec;
      const checksum = checksumOf(spec);
      // Two publishers may race for the same version; the unique index lets one win, the other
      // re-reads and either sees its content published or takes the next number.
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await Definition.findOne({ key: spec.key }).sort({ version: -1 }).lean();
        if (current && current.checksum === checksum && current.status === 'published') {
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

    /** The snapshot a new case starts with: the latest published version of `key`. */
    async latestSnapshot(key: string): Promise<DefinitionSnapshot | null> {
      const doc = await latest(key);
      if (!doc) return null;
      return {
        key: doc.key,
        version: doc.version,
        checksum: doc.checksum,
        spec: doc.spec as DefinitionSpec,
      };
    },

    /** Publishes every `*.yaml`, `*.yml` and `*.json` file of a folder whose content changed. */
    async publishFolder(dir: string, publishedBy: Actor): Promise<PublishResult[]> {
      const files = (await readdir(dir)).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
      const results: PublishResult[] = [];
      for (const file of files) {
        const source = await readFile(path.join(dir, file), 'utf8');
        try {
          results.push(
            await this.publish({
              source,
              format: file.endsWith('.json') ? 'json' : 'yaml',
              publishedBy,
            }),
          );
        } catch (err) {
          if (err instanceof AppError) {
            const problems = err.details.map((d) => `  ${d.path}: ${d.message}`).join('\n');
            throw new Error(`definitions/${file}: ${err.message}\n${problems}`);
          }
          throw err;
        }
      }
      return results;
    },
  };
}

export type DefinitionService = ReturnType<typeof createDefinitionService>;

function parseSource(source: string, format: 'yaml' | 'json'): unknown {
  try {
    if (format === 'json') return JSON.parse(source) as unknown;
    const doc = YAML.parseDocument(source, { prettyErrors: true });
    if (doc.errors.length > 0) {
      throw new AppError(
        'unprocessable',
        'The definition is not valid YAML',
        doc.errors.map((e) => ({
          path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
          message: e.message.split('\n')[0] ?? e.message,
        })),
      );
    }
    return doc.toJS() as unknown;
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('unprocessable', `The definition is not valid ${format.toUpperCase()}`, [
      { path: '', message: (err as Error).message },
    ]);
  }
}

/** Checksum of the parsed content, so reformatting a file does not make a new version. */
export function checksumOf(spec: DefinitionSpec): string {
  return `sha256:${createHash('sha256').update(canonicalJson(spec)).digest('hex')}`;
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
