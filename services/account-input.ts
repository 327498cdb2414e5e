import { z } from 'zod';
import { PERSON_ROLES } from '../common/roles';

/** The units an account or key is scoped to. */
export const unitIds = z
  .array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a unit id'))
  .max(100)
  .default([]);

/** A new sign-in account: the API's body and the demo seed's accounts are checked with it. */
export const createUserBody = z
  .object({
    username: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{2,63}$/, '3 to 64 lower-case letters, digits, . _ -'),
    displayName: z.string().trim().min(1).max(100),
    password: z.string().min(10, 'at least 10 characters').max(200),
    roles: z.array(z.enum(PERSON_ROLES)).min(1),
    unitIds,
  })
  .strict();
