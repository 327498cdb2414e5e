import { z } from 'zod';
import { definitionJsonSchema } from '../../lang/source';
import { actorOf } from '../../services/auth';
import type { RouteRegistry } from '../pipeline';
import type { DefinitionService } from '../../services/definitions';
import { errorBodySchema, errorResponses } from './shared';
import { SUPERVISOR_ROLES } from '../../common/roles';

/**
 * Process definitions: validate, draft, publish immutable versions, read, retire; and the JSON
 * Schema editors load. Sources travel as text inside JSON (`{ format, source }`), so YAML keeps
 * its comments and layout, and errors point at its lines.
 */

const READERS = SUPERVISOR_ROLES;
const AUTHORS = ['admin'] as const;

/** A definition file may be larger than an ordinary request. */
const SOURCE_BODY_LIMIT = '1mb';

const format = z.enum(['yaml', 'json']).meta({ description: 'The language of `source`' });
const sourceText = z
  .string()
  .min(1)
  .max(500_000)
  .meta({ description: 'The definition file, as text (YAML or JSON)' });

const sourceBody = z.object({ format: format.default('yaml'), source: sourceText }).strict();

const publishBody = z
  .object({
    format: format.default('yaml'),
    source: sourceText.optional().meta({
      description: "A source to publish; without it, the key's draft is published",
    }),
  })
  .strict();

const keyParams = z.object({
  key: z.string().regex(/^[a-z][a-z0-9-]{1,62}$/, 'a definition key such as resident-request'),
});
const versionParams = keyParams.extend({
  version: z.coerce.number().int().min(1).max(1_000_000),
});

const actorSchema = z.object({ kind: z.string(), id: z.string() });
const specSchema = z
  .record(z.string(), z.unknown())
  .meta({ description: 'The definition as validated, defaults filled in' });

const summarySchema = z.object({
  key: z.string(),
  name: z.string(),
  latestVersion: z.number().int().nullable(),
  status: z.enum(['published', 'retired', 'draft']),
  checksum: z.string().nullable(),
  publishedAt: z.iso.datetime().nullable(),
  hasDraft: z.boolean(),
});

const versionSummarySchema = z.object({
  version: z.number().int(),
  name: z.string(),
  status: z.enum(['published', 'retired']),
  checksum: z.string(),
  publishedAt: z.iso.datetime(),
  publishedBy: actorSchema,
});

const versionSchema = versionSummarySchema.extend({
  key: z.string(),
  format,
  source: z.string(),
  spec: specSchema,
});

const draftSchema = z.object({
  key: z.string(),
  name: z.string(),
  checksum: z.string(),
  format,
  source: z.string(),
  spec: specSchema,
  savedAt: z.iso.datetime(),
  savedBy: actorSchema,
});

const publishResultSchema = z.object({
  key: z.string(),
  version: z.number().int(),
  checksum: z.string(),
  published: z.boolean(),
});

/** A 422 for a definition: each problem with its path and, where known, its line and column. */
const problemsBodySchema = z.object({
  error: errorBodySchema.shape.error.extend({
    details: z.array(
      z.object({
        path: z.string().meta({ description: 'Where in the definition, e.g. steps[2].next' }),
        message: z.string(),
        line: z.number().int().optional(),
        column: z.number().int().optional(),
      }),
    ),
  }),
});
const definitionProblems = {
  422: {
    description: 'The definition is not valid; `details` lists every problem with line and column',
    schema: problemsBodySchema,
  },
};

export function registerDefinitionRoutes(
  routes: RouteRegistry,
  definitions: DefinitionService,
): void {
  // Generated once: it only changes with the code.
  const jsonSchema = definitionJsonSchema();
  routes.add({
    method: 'get',
    path: '/api/v1/definitions/schema.json',
    tag: 'definitions',
    summary: 'The JSON Schema of definition files, for editors',
    description:
      'Point an editor at it (e.g. `# yaml-language-server: $schema=<url>`) to complete and check definitions as you type. Needs no credentials: it describes the language, not any data. The repository keeps the same document in definitions/definition.schema.json.',
    roles: 'public',
    responses: {
      200: { description: 'A JSON Schema (draft-07)', schema: z.record(z.string(), z.unknown()) },
    },
    handle: () => Promise.resolve({ status: 200, body: jsonSchema }),
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof sourceBody>>({
    method: 'post',
    path: '/api/v1/definitions/validate',
    tag: 'definitions',
    summary: 'Check a definition without storing it',
    description:
      'Reports every problem at once: syntax, shape, unknown step references, unreachable steps, steps with no way to an end, bad durations and expressions, unknown roles and mail templates, field names that would break storage. Each problem has its path and, where it is in the text, its line and column.',
    limit: 'definition-validate',
    roles: READERS,
    body: sourceBody,
    bodyLimit: SOURCE_BODY_LIMIT,
    responses: {
      200: {
        description: 'The definition is valid',
        schema: z.object({
          valid: z.literal(true),
          key: z.string(),
          name: z.string(),
          checksum: z.string(),
        }),
      },
      ...errorResponses(400, 401, 403, 413, 429),
      ...definitionProblems,
    },
    handle: ({ body }) =>
      Promise.resolve({ status: 200, body: { valid: true, ...definitions.validate(body) } }),
  });

  routes.add<undefined, undefined, undefined, z.infer<typeof sourceBody>>({
    method: 'post',
    path: '/api/v1/definitions/drafts',
    tag: 'definitions',
    summary: 'Save a valid definition as the draft of its key (replacing any earlier draft)',
    description:
      'A draft is stored but never runs; publish it to make the next version. Its key comes from the source.',
    roles: AUTHORS,
    body: sourceBody,
    bodyLimit: SOURCE_BODY_LIMIT,
    responses: {
      201: { description: 'Draft saved', schema: draftSchema },
      200: { description: 'The earlier draft was replaced', schema: draftSchema },
      ...errorResponses(400, 401, 403, 413),
      ...definitionProblems,
    },
    async handle({ body, principal }) {
      const { created, draft } = await definitions.saveDraft({
        ...body,
        savedBy: actorOf(principal),
      });
      return {
        status: created ? 201 : 200,
        body: draft,
        headers: { Location: `/api/v1/definitions/${draft.key}/draft` },
      };
    },
  });

  routes.add<z.infer<typeof keyParams>>({
    method: 'get',
    path: '/api/v1/definitions/:key/draft',
    tag: 'definitions',
    summary: "A key's draft",
    roles: READERS,
    params: keyParams,
    responses: {
      200: { description: 'The draft', schema: draftSchema },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ params }) {
      return { status: 200, body: await definitions.getDraft(params.key) };
    },
  });

  routes.add<z.infer<typeof keyParams>>({
    method: 'delete',
    path: '/api/v1/definitions/:key/draft',
    tag: 'definitions',
    summary: "Discard a key's draft",
    roles: AUTHORS,
    params: keyParams,
    responses: { 204: { description: 'Discarded' }, ...errorResponses(400, 401, 403, 404) },
    async handle({ params }) {
      await definitions.deleteDraft(params.key);
      return { status: 204 };
    },
  });

  routes.add<z.infer<typeof keyParams>, undefined, undefined, z.infer<typeof publishBody>>({
    method: 'post',
    path: '/api/v1/definitions/:key/publish',
    tag: 'definitions',
    summary: 'Publish the next version of a process',
    description:
      "Publishes the key's draft (then discarded), or the source in the body. Content equal to the latest published version makes no new version (200); otherwise version N+1 with its checksum (201). Versions are immutable: running cases keep the version they started with. Publishing a retired process brings it back as a new version.",
    roles: AUTHORS,
    params: keyParams,
    body: publishBody,
    bodyLimit: SOURCE_BODY_LIMIT,
    responses: {
      201: { description: 'A new version was published', schema: publishResultSchema },
      200: {
        description: 'The latest version already has this content',
        schema: publishResultSchema,
      },
      ...errorResponses(400, 401, 403, 404, 409, 413),
      ...definitionProblems,
    },
    async handle({ params, body, principal }) {
      const result =
        body.source === undefined
          ? await definitions.publishDraft(params.key, actorOf(principal))
          : await definitions.publish({
              source: body.source,
              format: body.format,
              publishedBy: actorOf(principal),
              key: params.key,
            });
      return {
        status: result.published ? 201 : 200,
        body: result,
        headers: { Location: `/api/v1/definitions/${result.key}/versions/${result.version}` },
      };
    },
  });

  routes.add({
    method: 'get',
    path: '/api/v1/definitions',
    tag: 'definitions',
    summary: 'Every process with its latest version, by key',
    roles: READERS,
    responses: {
      200: { description: 'Processes', schema: z.object({ items: z.array(summarySchema) }) },
      ...errorResponses(401, 403),
    },
    async handle() {
      return { status: 200, body: { items: await definitions.list() } };
    },
  });

  routes.add<z.infer<typeof keyParams>>({
    method: 'get',
    path: '/api/v1/definitions/:key/versions',
    tag: 'definitions',
    summary: 'The versions of a process, newest first',
    roles: READERS,
    params: keyParams,
    responses: {
      200: { description: 'Versions', schema: z.object({ items: z.array(versionSummarySchema) }) },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ params }) {
      return { status: 200, body: { items: await definitions.versions(params.key) } };
    },
  });

  routes.add<z.infer<typeof versionParams>>({
    method: 'get',
    path: '/api/v1/definitions/:key/versions/:version',
    tag: 'definitions',
    summary: 'One version: its source, the validated spec, checksum and publication',
    roles: READERS,
    params: versionParams,
    responses: {
      200: { description: 'The version', schema: versionSchema },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ params }) {
      return { status: 200, body: await definitions.getVersion(params.key, params.version) };
    },
  });

  routes.add<z.infer<typeof keyParams>>({
    method: 'post',
    path: '/api/v1/definitions/:key/retire',
    tag: 'definitions',
    summary: 'Retire a process: no new cases start it',
    description:
      'Retires every published version, so neither the latest nor an earlier one starts new cases or sub-processes; running cases go on with their version. Safe to repeat. Publishing again brings the process back as a new version.',
    roles: AUTHORS,
    params: keyParams,
    responses: {
      200: { description: 'Retired', schema: summarySchema },
      ...errorResponses(400, 401, 403, 404),
    },
    async handle({ params }) {
      return { status: 200, body: await definitions.retire(params.key) };
    },
  });
}
