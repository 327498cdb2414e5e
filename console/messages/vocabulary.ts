import type { Label } from '../../lang/vocabulary';
import {
  PAIRING_KIND_LABELS,
  POST_ROLE_LABELS,
  UNIT_TYPE_LABELS,
  UNIT_TYPES,
} from '../../lang/vocabulary';

/**
 * Console messages for the words of the definition language (lang/vocabulary.ts names each unit
 * type and built-in post role once): the message tables spread these in under their own keys.
 * Pairs as console/i18n.ts MessagePairs, written out so this file does not import i18n.ts.
 */
type Pairs = Readonly<Record<string, readonly [zh: string, en: string]>>;

/**
 * How a page names unit types: `everyday` in reports and charts, `formal` in the org
 * administration (县（区）, 街道（镇）: what else a type stands for), `heading` for option groups
 * (capitalised in English).
 */
export type UnitTypeStyle = 'everyday' | 'formal' | 'heading';

/** `<prefix>.<unit type>` for every unit type. */
export function unitTypeMessages(prefix: string, style: UnitTypeStyle): Pairs {
  return Object.fromEntries(
    UNIT_TYPES.map((type) => {
      const label = UNIT_TYPE_LABELS[type];
      const zh = style === 'formal' ? (label.zhFormal ?? label.zh) : label.zh;
      const en = style === 'heading' ? capitalised(label.en) : label.en;
      return [`${prefix}.${type}`, [zh, en]];
    }),
  );
}

/** `<prefix>.<role key>` for every built-in post role. */
export function postRoleMessages(prefix: string): Pairs {
  return Object.fromEntries(
    Object.entries(POST_ROLE_LABELS).map(([key, label]: [string, Label]) => [
      `${prefix}.${key}`,
      [label.zh, label.en],
    ]),
  );
}

/** `<prefix>.<kind>` for every pairing kind (包联). */
export function pairingKindMessages(prefix: string): Pairs {
  return Object.fromEntries(
    Object.entries(PAIRING_KIND_LABELS).map(([key, label]: [string, Label]) => [
      `${prefix}.${key}`,
      [label.zh, label.en],
    ]),
  );
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
