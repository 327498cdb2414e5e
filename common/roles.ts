/**
 * Roles a principal can hold. People sign in as admin, dispatcher (派单员), staff (工作人员,
 * including party members and co-building units' contacts) or resident (居民); `system` is for
 * API keys of other systems (a 12345 hotline bridge, a WeChat mini-program backend).
 */
export const ROLES = ['admin', 'dispatcher', 'staff', 'resident', 'system'] as const;
export type Role = (typeof ROLES)[number];

/** Roles that may be given to a person's account (a person is never `system`). */
export const PERSON_ROLES = ['admin', 'dispatcher', 'staff', 'resident'] as const;

/**
 * Roles that oversee other people's work within their scope: they reassign tasks, see every task
 * and case in scope, the dashboard and the whole directory, open evaluation rounds, read
 * definitions and redeem points. In this order wherever a list of them is shown.
 */
export const SUPERVISOR_ROLES = ['admin', 'dispatcher'] as const satisfies readonly Role[];

/** Whether one of these roles is a supervisor's (for role lists of any kind: principals, actors). */
export function isSupervisorRole(roles: readonly string[]): boolean {
  return roles.some((role) => (SUPERVISOR_ROLES as readonly string[]).includes(role));
}

/** Account roles as people call them (the generated process guides). */
export const ROLE_LABELS: Readonly<Record<Role, string>> = {
  admin: '管理员',
  dispatcher: '派单员',
  staff: '工作人员',
  resident: '居民',
  system: '系统（API key）',
};
