import { z } from 'zod';
import type { RouteRegistry } from './pipeline';

/**
 * The OpenAPI 3.1 document, generated from the zod schemas the routes validate with, so the
 * documentation cannot drift from the behaviour.
 */
export function buildOpenApi(
  routes: RouteRegistry,
  info: { version: string },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes.list()) {
    const openApiPath = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = [
      ...objectParameters(route.params, 'path'),
      ...objectParameters(route.query, 'query'),
      ...objectParameters(route.headers, 'header'),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema
          ? { content: { 'application/json': { schema: toSchema(response.schema, 'output') } } }
          : response.media
            ? { content: response.media }
            : {}),
      };
    }
    (paths[openApiPath] ??= {})[route.method] = {
      tags: [route.tag],
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      ...securityOf(route),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content:
                route.bodyFormat === 'image'
                  ? IMAGE_BODY
                  : Object.fromEntries(
                      bodyMediaTypes(route.bodyFormat).map((type) => [
                        type,
                        { schema: toSchema(route.body!, 'input') },
                      ]),
                    ),
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Community governance workflow API',
      version: info.version,
      description:
        'Start and follow cases of governance processes. Authenticate with `Authorization: Bearer <token>`: an API key for systems, or a session token from POST /api/v1/auth/login for people. Public routes (`security: []`) need none: the public board, reading Open311, and the quick report (随手报) of mobile grid members, who prove their phone with a one-time SMS code instead. Errors share one body: `{ error: { code, message, details: [{ path, message }], requestId } }`.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        // Open311 GeoReport v2 routes also take the API key as a parameter (query or form body).
        apiKeyParameter: { type: 'apiKey', in: 'query', name: 'api_key' },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

type AnyRoute = ReturnType<RouteRegistry['list']>[number];

/** An image upload (api/pipeline.ts `image` bodies): one file part of a form, or the raw image. */
const IMAGE_BODY = {
  'multipart/form-data': {
    schema: {
      type: 'object',
      properties: { file: { type: 'string', format: 'binary', description: 'The photo' } },
      required: ['file'],
    },
    encoding: { file: { contentType: 'image/*' } },
  },
  'image/*': { schema: { type: 'string', format: 'binary' } },
};

/**
 * Public routes need nothing (`security: []`), or take credentials when sent (`{}` first); routes
 * with roles keep the global bearer scheme unless they also take an `api_key` parameter.
 */
function securityOf(route: AnyRoute): Record<string, unknown> {
  const schemes = [{ bearer: [] }, ...(route.apiKeyParameter ? [{ apiKeyParameter: [] }] : [])];
  if (route.roles === 'public') {
    return { security: route.optionalCredentials ? [{}, ...schemes] : [] };
  }
  return { 'x-roles': route.roles, ...(route.apiKeyParameter ? { security: schemes } : {}) };
}

function bodyMediaTypes(format: AnyRoute['bodyFormat']): string[] {
  switch (format) {
    case 'csv':
      return ['text/csv'];
    case 'form':
      return ['application/x-www-form-urlencoded', 'application/json'];
    default:
      return ['application/json'];
  }
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' });
}

function objectParameters(schema: z.ZodType | undefined, location: 'path' | 'query' | 'header') {
  if (!schema) return [];
  const json = toSchema(schema, 'input') as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name: location === 'header' ? headerName(name) : name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

function headerName(name: string): string {
  return name.replace(
    /(^|-)([a-z])/g,
    (_m, dash: string, c: string) => `${dash}${c.toUpperCase()}`,
  );
}
