import mongoose from 'mongoose';

/**
 * A 包联 (pairing, common/org-tree.ts `Pairing`): a person or a unit looking after a unit, of a
 * kind, with an optional validity period (China days, both inclusive). `_id` is
 * `<kind>:<unit>:person:<person>` or `<kind>:<unit>:unit:<partner unit>` (services/pairings.ts
 * `pairingIdOf`), so importing the same pairing again is the same document: new pairings are
 * inserted, and only a changed period is an update (FerretDB v1 can lose one of two concurrent
 * updates of a document; one pairing has one writer, the admin).
 */
export const pairingSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    unitId: { type: String, required: true },
    kind: { type: String, required: true },
    personId: { type: String, default: null },
    partnerUnitId: { type: String, default: null },
    validFrom: { type: String, default: null },
    validUntil: { type: String, default: null },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'pairings', versionKey: false },
);
pairingSchema.index({ unitId: 1 });
