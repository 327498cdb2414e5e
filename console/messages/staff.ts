import type { MessagePairs } from '../i18n';

/** Inbox, tasks, cases and the resident's pages. */
export const STAFF_MESSAGES: MessagePairs = {};
