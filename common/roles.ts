/**
 * Roles a principal can hold. People sign in as admin, dispatcher (派单员), staff (工作人员,
 * including party members and co-building units' contacts) or resident (居民); `system` is for
 * API keys of other systems (a 12345 hotline bridge, a WeChat mini-program backend).
 */
export const ROLES = ['admin', 'dispatcher', 'staff', 'resident', 'system'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may be given to a person's account (a person is never `system`). */
export const PERSON_ROLES = ['admin', 'dispatcher', 'staff', 'resident'] as const;
