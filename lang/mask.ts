import type { FieldSpec } from './definition';

/**
 * Masks personal data for the public board: enough left to recognise one's own case, not enough
 * to identify anyone. Pure, so the workflow can mask before anything leaves the case.
 */
export function maskValue(type: FieldSpec['type'], value: unknown): string {
  const text = String(value);
  switch (type) {
    case 'phone': {
      const digits = text.replace(/\D/g, '');
      return digits.length >= 7 ? `${digits.slice(0, 3)}****${digits.slice(-4)}` : '****';
    }
    case 'email': {
      const at = text.indexOf('@');
      return at > 0 ? `${text[0]}***${text.slice(at)}` : '***';
    }
    default: {
      const chars = [...text];
      if (chars.length === 0) return '';
      if (chars.length === 1) return '*';
      // A name keeps its first character (张*, 欧阳**); an address or a text shows its start only.
      return chars.length <= 4
        ? `${chars[0]}${'*'.repeat(chars.length - 1)}`
        : `${chars.slice(0, 2).join('')}***`;
    }
  }
}

/**
 * Identifiers residents type into free text, in the order they are looked for (longest first):
 * 18-digit identity numbers (17 digits and a digit or X), mainland mobile numbers (1[3-9] and 9
 * more digits, spaces or dashes allowed between digits, an optional +86/0086/86 in front) and
 * landlines with their area code (0 and 2–3 digits, in brackets or not, then 7–8 digits). A
 * number inside a longer run of digits or letters is none of these and stays as it is.
 */
const IDENTIFIERS = new RegExp(
  [
    String.raw`(?<id>(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z]))`,
    String.raw`(?<mobile>(?<![\d+])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d){8}(?!\d))`,
    String.raw`(?<landline>(?<!\d)(?:0\d{2,3}|\(0\d{2,3}\)|（0\d{2,3}）)[ -]?\d{3,4}[ -]?\d{4}(?!\d))`,
  ].join('|'),
  'g',
);

/**
 * Masks the phone and identity numbers in a free text a resident typed (a description, a wish)
 * before it is published: phones as {@link maskValue} masks a phone field (first 3 and last 4
 * digits; a +86 prefix is dropped), identity numbers keeping their first 3 and last 4 characters
 * (no birth date, no place of registration). The rest of the text is left as it is. Pure.
 */
export function maskIdentifiers(text: string): string {
  return text.replace(IDENTIFIERS, (match, ...args: unknown[]) => {
    const groups = args.at(-1) as Record<string, string | undefined>;
    if (groups.id !== undefined) return `${match.slice(0, 3)}${'*'.repeat(11)}${match.slice(-4)}`;
    const digits = match.replace(/\D/g, '');
    if (groups.mobile !== undefined) return maskValue('phone', digits.slice(-11));
    return maskValue('phone', digits);
  });
}
