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
