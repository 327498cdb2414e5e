import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * The Open311 GeoReport v2 JSON Schemas (test/fixtures/open311, CC BY 3.0, Open311 community) as
 * ajv validators, one per kind of response. Tests call {@link open311Problems} on every body and
 * expect no problems.
 */

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'open311');

function schema(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as Record<string, unknown>;
}

export type Open311Kind = 'services' | 'serviceDefinition' | 'requests' | 'created' | 'errors';

function compileAll(): Record<Open311Kind, ValidateFunction> {
  // strict: false: the published schemas carry keywords where ajv's strict mode objects (e.g.
  // `minItems` beside `$ref` inside `items`); they are used as published.
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat('uid', true); // Swagger's identifier format: any string
  ajv.addSchema(schema('request.json'), 'request.json');
  ajv.addSchema(schema('service.json'), 'service.json');
  const swagger = schema('swagger.json') as { definitions: Record<string, unknown> };
  return {
    services: ajv.compile(schema('services.json')),
    serviceDefinition: ajv.compile(schema('service-definition.json')),
    requests: ajv.compile(schema('requests.json')),
    created: ajv.compile({ type: 'array', items: swagger.definitions.RequestResponse }),
    errors: ajv.compile(schema('errors.json')),
  };
}

let validators: Record<Open311Kind, ValidateFunction> | undefined;

/** Where a body breaks its Open311 schema, e.g. `/0/lat must be number,null`; empty when valid. */
export function open311Problems(kind: Open311Kind, body: unknown): string[] {
  validators ??= compileAll();
  const validate = validators[kind];
  return validate(body)
    ? []
    : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`);
}
