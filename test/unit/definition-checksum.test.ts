import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import YAML from 'yaml';
import type { DefinitionSpec } from '../../lang/definition';
import { canonicalJson } from '../../common/canonical-json';
import { checksumOf } from '../../services/definitions';

/** Rebuilds every object with its keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  }
  return value;
}

function shippedSpec(): DefinitionSpec {
  const file = path.join(__dirname, '..', '..', 'definitions', 'resident-request.yaml');
  return YAML.parse(readFileSync(file, 'utf8')) as DefinitionSpec;
}

describe('canonicalJson', () => {
  it('when keys are in another order, then the output is the same, sorted by key', () => {
    // Arrange
    const a = { b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } };
    const b = { a: { c: 'x', d: [1, { y: null, z: true }] }, b: 1 };

    // Act
    const left = canonicalJson(a);
    const right = canonicalJson(b);

    // Assert
    expect(left).toBe(right);
    expect(left).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
  });

  it('when a property is undefined, then it is dropped as if absent', () => {
    // Act
    const withUndefined = canonicalJson({ a: 1, b: undefined, c: { d: undefined } });

    // Assert
    expect(withUndefined).toBe(canonicalJson({ a: 1, c: {} }));
    expect(withUndefined).toBe('{"a":1,"c":{}}');
  });

  it('when given any JSON value, then key order does not matter and the output parses back', () => {
    // Act / Assert
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const canonical = canonicalJson(value);
        expect(canonicalJson(reverseKeys(value))).toBe(canonical);
        expect(JSON.parse(canonical)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('when array order differs, then the output differs (arrays are ordered)', () => {
    // Act
    const left = canonicalJson({ starters: ['resident', 'admin'] });
    const right = canonicalJson({ starters: ['admin', 'resident'] });

    // Assert
    expect(left).not.toBe(right);
  });
});

describe('checksumOf', () => {
  it('when the same spec has its keys reordered, then the checksum is the same', () => {
    // Arrange
    const spec = shippedSpec();
    const reordered = reverseKeys(spec) as DefinitionSpec;

    // Act
    const original = checksumOf(spec);
    const again = checksumOf(reordered);

    // Assert
    expect(again).toBe(original);
    expect(original).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('when a value in the spec changes, then the checksum changes', () => {
    // Arrange
    const spec = shippedSpec();
    const renamed: DefinitionSpec = { ...spec, name: `${spec.name} (v2)` };
    const restarted: DefinitionSpec = { ...spec, starters: ['admin'] };

    // Act
    const checksums = [spec, renamed, restarted].map(checksumOf);

    // Assert
    expect(new Set(checksums).size).toBe(3);
  });
});
