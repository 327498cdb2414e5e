import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateProcessGuide, PROCESS_GUIDE_PATH } from '../../scripts/process-guide';

const DEFINITIONS_DIR = path.join(__dirname, '..', '..', 'definitions');

describe('docs/process-library.md', () => {
  let generated: string;

  beforeAll(async () => {
    generated = await generateProcessGuide();
  });

  it('when compared with the guide generated from the definitions, then it is the same (else run `npm run process-guide`)', () => {
    // Arrange
    const committed = readFileSync(PROCESS_GUIDE_PATH, 'utf8');

    // Act
    const verdict =
      committed === generated
        ? 'up to date'
        : 'stale: run `npm run process-guide` and commit docs/process-library.md';

    // Assert
    expect(verdict).toBe('up to date');
  });

  it('when generated, then every shipped definition has its section and its example', () => {
    // Arrange
    const keys = readdirSync(DEFINITIONS_DIR)
      .filter((f) => /\.(ya?ml|json)$/.test(f) && !f.endsWith('.schema.json'))
      .map((f) => /^key:\s*(\S+)/m.exec(readFileSync(path.join(DEFINITIONS_DIR, f), 'utf8'))?.[1]);

    // Assert
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) {
      expect(generated).toContain(`<a id="${key}"></a>`);
      expect(generated).toContain(`"definitionKey":"${key}"`);
    }
  });

  it('when generated twice, then the output is the same (no clock, a fixed order)', async () => {
    // Act
    const again = await generateProcessGuide();

    // Assert
    expect(again).toBe(generated);
  });
});
