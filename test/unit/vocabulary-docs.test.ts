import { readFileSync } from 'node:fs';
import path from 'node:path';
import { POST_ROLE_LABELS, UNIT_TYPE_LABELS, UNIT_TYPES } from '../../lang/vocabulary';

// The language reference names unit types and built-in post roles as lang/vocabulary.ts does:
// the console, the mails and the process guide read the vocabulary itself, the docs by hand.
const reference = readFileSync(
  path.join(__dirname, '..', '..', 'docs', 'definition-language.md'),
  'utf8',
).replace(/\s+/g, ' ');

describe('the vocabulary in docs/definition-language.md', () => {
  it.each(Object.entries(POST_ROLE_LABELS))(
    'when the post role %s is looked up, then its table row gives the vocabulary name',
    (key, label) => {
      expect(reference).toMatch(new RegExp(`\\| \`${key}\` \\| ${label.zh} \\|`));
    },
  );

  it.each(UNIT_TYPES)(
    'when the unit type %s is looked up, then the org tree paragraph gives the vocabulary name',
    (type) => {
      expect(reference).toContain(`\`${type}\` (${UNIT_TYPE_LABELS[type].zh}`);
    },
  );
});
