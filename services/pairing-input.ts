import { z } from 'zod';
import { PAIRING_KINDS } from '../lang/vocabulary';
import { orgId } from './org-id';

/**
 * A 包联 (pairing) as the JSON import, the CSV import (`POST /api/v1/org/import/pairings`) and
 * `POST /api/v1/org/pairings` take it: the unit looked after, the kind, exactly one of the
 * person or the unit looking after it, and an optional validity period (China days, both
 * inclusive). Flat, so one spreadsheet row is one pairing.
 */
const day = z.iso.date({ error: 'a day as YYYY-MM-DD' });

export const pairingInput = z
  .object({
    unitId: orgId,
    kind: z.string().refine((kind) => PAIRING_KINDS.includes(kind), {
      error: (issue) =>
        `${typeof issue.input === 'string' ? `"${issue.input}" is not a pairing kind` : 'a pairing kind is required'} (${PAIRING_KINDS.join(', ')})`,
    }),
    personId: orgId.optional(),
    partnerUnitId: orgId.optional(),
    validFrom: day.optional(),
    validUntil: day.optional(),
  })
  .strict()
  .superRefine((pairing, ctx) => {
    if ((pairing.personId === undefined) === (pairing.partnerUnitId === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [pairing.personId === undefined ? 'personId' : 'partnerUnitId'],
        message: 'give either personId (a person) or partnerUnitId (a unit), not both',
      });
    }
    if (pairing.partnerUnitId !== undefined && pairing.partnerUnitId === pairing.unitId) {
      ctx.addIssue({
        code: 'custom',
        path: ['partnerUnitId'],
        message: 'a unit cannot be paired with itself',
      });
    }
    if (pairing.validFrom && pairing.validUntil && pairing.validFrom > pairing.validUntil) {
      ctx.addIssue({
        code: 'custom',
        path: ['validUntil'],
        message: `ends before it starts (${pairing.validFrom})`,
      });
    }
  });
export type PairingInput = z.infer<typeof pairingInput>;

/** A county's pairings: Xixiang's 2,500 cadres each with a building or two (chosen, 5×). */
export const MAX_PAIRINGS = 50_000;
