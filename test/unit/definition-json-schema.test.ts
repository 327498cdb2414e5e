import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isDefinitionFile } from '../../services/definition-folder';
import { DEFINITION_SCHEMA_ID, definitionJsonSchema } from '../../lang/source';

const DEFINITIONS_DIR = path.join(__dirname, '..', '..', 'definitions');

describe('definitions/definition.schema.json', () => {
  it('when compared with the schema generated from the language, then it is the same (else run `npm run schema`)', () => {
    // Arrange
    const committed = JSON.parse(
      readFileSync(path.join(DEFINITIONS_DIR, 'definition.schema.json'), 'utf8'),
    ) as unknown;

    // Act
    const generated = definitionJsonSchema();

    // Assert
    const verdict =
      JSON.stringify(committed) === JSON.stringify(generated)
        ? 'up to date'
        : 'stale: run `npm run schema` and commit definitions/definition.schema.json';
    expect(verdict).toBe('up to date');
  });

  it('when generated, then it names itself and describes a definition for editors', () => {
    // Act
    const schema = definitionJsonSchema() as {
      $schema: string;
      $id: string;
      title: string;
      required: string[];
      definitions: Record<string, unknown>;
    };

    // Assert
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.$id).toBe(DEFINITION_SCHEMA_ID);
    expect(schema.title).toEqual(expect.any(String));
    expect(schema.required).toEqual(expect.arrayContaining(['key', 'name', 'steps']));
    expect(Object.keys(schema.definitions)).toEqual(
      expect.arrayContaining(['step', 'taskStep', 'endStep', 'field']),
    );
  });

  it('when generated, then fields with defaults are optional for authors', () => {
    // Act
    const schema = definitionJsonSchema() as {
      definitions: { field: { required: string[] }; endStep: { required: string[] } };
    };

    // Assert
    expect(schema.definitions.field.required).not.toContain('required');
    expect(schema.definitions.endStep.required).not.toContain('status');
  });

  it('when the shipped YAML files are read, then each points editors at the schema', () => {
    // Arrange
    const files = readdirSync(DEFINITIONS_DIR).filter((f) => /\.ya?ml$/.test(f));

    // Assert
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const firstLine = readFileSync(path.join(DEFINITIONS_DIR, file), 'utf8').split('\n')[0];
      expect(firstLine).toBe('# yaml-language-server: $schema=./definition.schema.json');
    }
  });
});

describe('isDefinitionFile', () => {
  it.each([
    ['resident-request.yaml', true],
    ['resident-request.yml', true],
    ['resident-request.json', true],
    ['definition.schema.json', false],
    ['README.md', false],
  ])('when the folder holds %s, then publishing it at start-up is %s', (name, expected) => {
    // Act
    const result = isDefinitionFile(name);

    // Assert
    expect(result).toBe(expected);
  });
});
