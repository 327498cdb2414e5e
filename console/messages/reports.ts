import type { MessagePairs } from '../i18n';

/** Dashboards, the public board, evaluation rounds and emergency roll-calls. */
export const REPORT_MESSAGES: MessagePairs = {};
