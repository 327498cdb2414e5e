import { z } from 'zod';

/** An id of a unit, person or pairing partner in org data (one rule for every org input). */
export const orgId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, up to 64');
