import type { TestApp } from '../support/harness';
import { startTestApp } from '../support/harness';

/**
 * 未诉先办 (issue 17) through the API: the shipped analysis and proactive case are published at
 * start-up, publishing an analysis that names processes nobody published is refused naming each,
 * and the metrics a dashboard reads carry the proactive cases' figure.
 */
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('proactive-api');
});

afterAll(async () => {
  await app?.stop();
});

function analysisSource(key: string, definitions: string, child: string): string {
  return [
    `key: ${key}`,
    'name: 高频诉求分析（测试）',
    'starters: [admin]',
    'input:',
    '  fields: []',
    'steps:',
    '  - id: analyse',
    '    name: 高频诉求分析',
    '    type: recurrence',
    '    cases:',
    '      from: addMonths(date(case.receivedAt), -1)',
    '      to: addDays(date(case.receivedAt), -1)',
    `      definitions: ${definitions}`,
    '    place: grid',
    '    threshold: 5',
    `    definition: ${child}`,
    '  - { id: closed, name: 分析完成, type: end }',
  ].join('\n');
}

type ErrorBody = {
  error: { details: Array<{ path: string; message: string; line?: number }> };
};

describe('未诉先办 through the API', () => {
  it('when the API starts, then the shipped analysis and proactive case are published', async () => {
    // Act
    const analysis = await app.http<{ items: Array<{ version: number }> }>(
      'GET',
      '/api/v1/definitions/proactive-governance/versions',
      { token: app.adminKey },
    );
    const proactive = await app.http<{ items: Array<{ version: number }> }>(
      'GET',
      '/api/v1/definitions/proactive-case/versions',
      { token: app.adminKey },
    );

    // Assert
    expect(analysis.status).toBe(200);
    expect(analysis.body.items.length).toBeGreaterThan(0);
    expect(proactive.status).toBe(200);
    expect(proactive.body.items.length).toBeGreaterThan(0);
  });

  it('when an analysis names processes nobody published, then publishing is refused naming each with its line, and nothing is published', async () => {
    // Arrange
    const key = `proactive-unknown-${Date.now().toString(36)}`;
    const text = analysisSource(key, '[hotline-12345, hotline-1234]', 'proactive-cases');

    // Act
    const refused = await app.http('POST', `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
      body: { format: 'yaml', source: text },
    });
    const versions = await app.http('GET', `/api/v1/definitions/${key}/versions`, {
      token: app.adminKey,
    });

    // Assert
    expect(refused.status).toBe(422);
    expect((refused.body as ErrorBody).error.details).toEqual([
      {
        path: 'steps[0].cases.definitions[1]',
        message:
          'no process "hotline-1234" has been published: publish it first, or correct the key',
        line: 13,
        column: 36,
      },
      {
        path: 'steps[0].definition',
        message:
          'no process "proactive-cases" has been published: publish it first, or correct the key',
        line: 16,
        column: 17,
      },
    ]);
    expect(versions.status).toBe(404);
  });

  it('when an analysis names published processes, then it is published', async () => {
    // Arrange
    const key = `proactive-known-${Date.now().toString(36)}`;

    // Act
    const published = await app.http('POST', `/api/v1/definitions/${key}/publish`, {
      token: app.adminKey,
      body: {
        format: 'yaml',
        source: analysisSource(key, '[hotline-12345, grid-event]', 'proactive-case'),
      },
    });

    // Assert
    expect(published.status).toBe(201);
  });

  it('when the metrics of a unit are read, then they carry the proactive cases opened and closed in the period', async () => {
    // Arrange
    const tag = Date.now().toString(36);
    const imported = await app.http('POST', '/api/v1/org/import', {
      token: app.adminKey,
      body: {
        units: [{ id: `pc-${tag}`, name: '测试县', type: 'county', parentId: null }],
        people: [],
        posts: [],
      },
    });
    expect(imported.status).toBe(200);

    // Act
    const metrics = await app.http<{ proactive: unknown }>(
      'GET',
      `/api/v1/metrics?unitId=pc-${tag}&period=2026`,
      { token: app.adminKey },
    );

    // Assert
    expect(metrics.status).toBe(200);
    expect(metrics.body.proactive).toEqual({ opened: 0, closed: 0 });
  });
});
