import type { MessagePairs } from '../i18n';

/** Definitions, org tree and people, the working-day calendar (admin pages). */
export const ADMIN_MESSAGES: MessagePairs = {};
