import mongoose from 'mongoose';
import type { Connection } from 'mongoose';

/**
 * Who is available when (common/stand-ins.ts, common/duty-rota.ts): absence periods, posts'
 * B-holders (AB岗) and units' duty rotas (值班表). Org data like units and posts: written by the
 * API (services/availability.ts), each write bumping the org revision so the worker's lookups
 * read them again; read by the people lookups (activities/lookups.ts).
 */

/** A person's absence `[from, to)`; `_id` chosen by the importer so a re-import is a no-op. */
const absenceSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    personId: { type: String, required: true },
    from: { type: Date, required: true },
    to: { type: Date, required: true },
    reason: { type: String, required: true },
    standInId: { type: String, default: null },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'absences', versionKey: false },
);
absenceSchema.index({ personId: 1 });

/** A post's B-holder; `_id` is `unit:role`, one B-holder per post. */
const postBackupSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    unitId: { type: String, required: true },
    role: { type: String, required: true },
    personId: { type: String, required: true },
  },
  { collection: 'postBackups', versionKey: false },
);
postBackupSchema.index({ unitId: 1 });

/** A unit's duty rota, whole (`_id` is the unit's id); shifts as common/duty-rota.ts reads them. */
const dutyRotaSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    shifts: { type: [mongoose.Schema.Types.Mixed], default: [] },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'dutyRotas', versionKey: false },
);

/**
 * A unit's own working hours (`_id` is the unit's id), inherited by the units below it that have
 * none: windows `HH:MM`–`HH:MM` (Beijing time) and whether every day is a working day (365天).
 */
const workingHoursSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    windows: { type: [mongoose.Schema.Types.Mixed], default: [] },
    everyDay: { type: Boolean, default: false },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'workingHours', versionKey: false },
);

export function createAvailabilityModels(connection: Connection) {
  return {
    WorkingHours: connection.model('WorkingHours', workingHoursSchema),
    Absence: connection.model('Absence', absenceSchema),
    PostBackup: connection.model('PostBackup', postBackupSchema),
    DutyRota: connection.model('DutyRota', dutyRotaSchema),
  };
}
