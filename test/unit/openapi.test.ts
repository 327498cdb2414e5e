import { createRoutes } from '../../api/app';
import { buildOpenApi } from '../../api/openapi';

interface Operation {
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: {
    required: boolean;
    content: {
      'application/json': { schema: { properties?: Record<string, unknown>; required?: string[] } };
    };
  };
  responses: Record<string, unknown>;
}

function document() {
  // Handlers are never called here: the services only need to exist.
  const routes = createRoutes({
    cases: {} as never,
    accounts: {} as never,
    calendar: {} as never,
    org: {} as never,
    availability: {} as never,
    tasks: {} as never,
    definitions: {} as never,
    open311: {} as never,
    ledgers: {} as never,
    metrics: {} as never,
    board: {} as never,
    attachments: {} as never,
    evaluations: {} as never,
    points: {} as never,
    caseImport: {} as never,
    payloadCodec: {} as never,
    mail: {} as never,
    caseFailures: {} as never,
    catalogue: {} as never,
    quickReports: {} as never,
  });
  const doc = buildOpenApi(routes, { version: 'test' }) as {
    openapi: string;
    info: { version: string };
    paths: Record<string, Record<string, Operation>>;
  };
  return { routes: routes.list(), doc };
}

describe('buildOpenApi over the app routes', () => {
  it('when built, then every route appears under its OpenAPI path with {param} syntax', () => {
    // Act
    const { routes, doc } = document();

    // Assert
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) {
      const openApiPath = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
      expect(doc.paths[openApiPath]?.[route.method]).toBeDefined();
    }
    expect(Object.keys(doc.paths).filter((p) => p.includes(':'))).toEqual([]);
    expect(doc.paths['/api/v1/cases/{id}']?.get).toBeDefined();
    expect(doc.paths['/api/v1/api-keys/{id}']?.delete).toBeDefined();
    expect(doc.info.version).toBe('test');
  });

  it('when a path has a parameter, then it is declared as a required path parameter', () => {
    // Act
    const { doc } = document();

    // Assert
    const getCase = doc.paths['/api/v1/cases/{id}']?.get;
    expect(getCase?.parameters).toContainEqual(
      expect.objectContaining({ name: 'id', in: 'path', required: true }),
    );
  });

  it('when POST /api/v1/cases is described, then it requires an Idempotency-Key header and a body', () => {
    // Act
    const { doc } = document();

    // Assert
    const startCase = doc.paths['/api/v1/cases']?.post;
    expect(startCase?.parameters).toContainEqual(
      expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }),
    );
    const schema = startCase?.requestBody?.content['application/json'].schema;
    expect(startCase?.requestBody?.required).toBe(true);
    expect(Object.keys(schema?.properties ?? {})).toEqual(
      expect.arrayContaining(['definitionKey', 'data']),
    );
    expect(schema?.required).toEqual(expect.arrayContaining(['definitionKey', 'data']));
  });

  it('when the CSV import is described, then its body is text/csv and its kind a path parameter', () => {
    // Act
    const { doc } = document();

    // Assert
    const csvImport = doc.paths['/api/v1/org/import/{kind}']?.post;
    expect(Object.keys(csvImport?.requestBody?.content ?? {})).toEqual(['text/csv']);
    expect(csvImport?.parameters).toContainEqual(
      expect.objectContaining({ name: 'kind', in: 'path', required: true }),
    );
    expect(Object.keys(doc.paths['/api/v1/org/import']?.post?.requestBody?.content ?? {})).toEqual([
      'application/json',
    ]);
  });

  it('when photo uploads are described, then they take a multipart file or a raw image and answer 413 and 415', () => {
    // Act
    const { doc } = document();

    // Assert
    for (const path of ['/api/v1/cases/{id}/attachments', '/api/v1/tasks/{id}/attachments']) {
      const upload = doc.paths[path]?.post;
      expect(Object.keys(upload?.requestBody?.content ?? {})).toEqual([
        'multipart/form-data',
        'image/*',
      ]);
      expect(Object.keys(upload?.responses ?? {})).toEqual(
        expect.arrayContaining(['201', '404', '409', '413', '415']),
      );
    }
    const photo = doc.paths['/api/v1/attachments/{id}']?.get?.responses['200'] as {
      content: Record<string, unknown>;
    };
    expect(Object.keys(photo.content)).toEqual(['image/jpeg']);
    expect(doc.paths['/api/v1/public/board/{id}/photos/{attachmentId}']?.get?.security).toEqual([]);
  });

  it('when the quick report is described, then its routes need no credentials and the report names its fields', () => {
    // Act
    const { doc } = document();

    // Assert
    for (const [path, method] of [
      ['/api/v1/quick-reports/form', 'get'],
      ['/api/v1/quick-reports/codes', 'post'],
      ['/api/v1/quick-reports', 'post'],
      ['/api/v1/quick-reports/cases/{id}', 'get'],
    ] as const) {
      expect(doc.paths[path]?.[method]?.security).toEqual([]);
    }
    const file = doc.paths['/api/v1/quick-reports']?.post;
    expect(file?.requestBody?.content['application/json'].schema.required?.sort()).toEqual([
      'category',
      'code',
      'description',
      'phone',
      'place',
    ]);
    expect(Object.keys(file?.responses ?? {})).toEqual(
      expect.arrayContaining(['201', '401', '403', '409', '422', '429']),
    );
  });

  it('when login is described, then it needs no credentials (security: [])', () => {
    // Act
    const { doc } = document();

    // Assert
    expect(doc.paths['/api/v1/auth/login']?.post?.security).toEqual([]);
  });

  it('when a route needs a role, then it does not override the global bearer security', () => {
    // Act
    const { doc } = document();

    // Assert
    expect(doc.paths['/api/v1/cases']?.post?.security).toBeUndefined();
    expect(doc.paths['/api/v1/api-keys']?.post).toMatchObject({ 'x-roles': ['admin'] });
  });

  it('when the Open311 intake is described, then filing takes a form or JSON and an api_key, and reading needs no credentials', () => {
    // Act
    const { doc } = document();

    // Assert
    const file = doc.paths['/open311/v2/requests.json']?.post;
    expect(Object.keys(file?.requestBody?.content ?? {})).toEqual([
      'application/x-www-form-urlencoded',
      'application/json',
    ]);
    expect(file?.security).toEqual([{ bearer: [] }, { apiKeyParameter: [] }]);
    expect(doc.paths['/open311/v2/services.json']?.get?.security).toEqual([]);
    expect(doc.paths['/open311/v2/services/{code}.json']?.get?.parameters).toContainEqual(
      expect.objectContaining({ name: 'code', in: 'path', required: true }),
    );
    expect(doc.paths['/open311/v2/requests/{id}.json']?.get?.security).toEqual([
      {},
      { bearer: [] },
      { apiKeyParameter: [] },
    ]);
  });

  it('when list queries are described, then paging parameters are optional query parameters', () => {
    // Act
    const { doc } = document();

    // Assert
    const listCases = doc.paths['/api/v1/cases']?.get;
    expect(listCases?.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'page', in: 'query', required: false }),
        expect.objectContaining({ name: 'pageSize', in: 'query', required: false }),
      ]),
    );
  });
});
