import { COMMON_MESSAGES } from './messages/common';
import { STAFF_MESSAGES } from './messages/staff';
import { ADMIN_MESSAGES } from './messages/admin';
import { REPORT_MESSAGES } from './messages/reports';
import type { MessagePairs } from './messages/pairs';

/**
 * The console speaks zh-CN by default and English on request. Messages are kept as pairs
 * (`[中文, English]`) beside each other, so a key can never exist in one language only.
 */
export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];
export const DEFAULT_LANG: Lang = 'zh-CN';

const MESSAGES: MessagePairs = mergeMessages([
  COMMON_MESSAGES,
  STAFF_MESSAGES,
  ADMIN_MESSAGES,
  REPORT_MESSAGES,
]);

function mergeMessages(groups: readonly MessagePairs[]): MessagePairs {
  const merged: Record<string, readonly [string, string]> = {};
  for (const group of groups) {
    for (const [key, pair] of Object.entries(group)) {
      if (Object.hasOwn(merged, key)) throw new Error(`console message "${key}" is defined twice`);
      merged[key] = pair;
    }
  }
  return merged;
}

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

export type Translate = (key: string, params?: Record<string, unknown>) => string;

/**
 * A translator for one language. `{name}` in a message is replaced by `params.name`. An unknown
 * key throws: a page that names a message nobody wrote is a bug a test should catch, not a
 * blank label a user should see.
 */
export function translator(lang: Lang): Translate {
  const index = lang === 'en' ? 1 : 0;
  return (key, params = {}) => {
    const pair = MESSAGES[key];
    if (!pair) throw new Error(`console message "${key}" is not defined`);
    return pair[index].replace(/\{(\w+)\}/g, (whole, name: string) =>
      Object.hasOwn(params, name) ? String(params[name]) : whole,
    );
  };
}

/** Whether a message exists (for keys built from data, such as timeline event types). */
export function hasMessage(key: string): boolean {
  return Object.hasOwn(MESSAGES, key);
}

export function messageKeys(): string[] {
  return Object.keys(MESSAGES);
}
