import { personEmailField, personNameField, personPhoneField } from '../common/org-writes';
import { z } from 'zod';
import { CHANNELS, ROBOT_CHANNELS, UNIT_TYPES } from '../lang/vocabulary';
import { readCsvRows } from './csv-records';
import type { OrgImport } from './org-import';
import { orgId } from './org-id';
import { MAX_PAIRINGS, pairingInput } from './pairing-input';

/**
 * What an org import may contain, as zod schemas: the API's JSON body, the console's CSV upload
 * and the demo seed all check units, people, posts and pairings with these, so the rules live once.
 */
export { orgId };

/** Loopback hosts, where a robot's webhook may be plain http (the local webhook sink). */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A WeCom or DingTalk group robot: its webhook (https; http only on loopback, for the local
 * sink) and, for DingTalk, the optional signing secret. Write-only: views show it masked.
 */
export const groupRobotInput = z
  .object({
    channel: z.enum(ROBOT_CHANNELS, {
      error: (issue) =>
        `"${String(issue.input)}" is not a robot channel (${ROBOT_CHANNELS.join(', ')})`,
    }),
    webhook: z
      .url({ protocol: /^https?$/, error: 'a webhook URL (https://…)' })
      .max(1000)
      .refine((value) => {
        if (!URL.canParse(value)) return true; // named by the URL check already
        const url = new URL(value);
        return url.protocol === 'https:' || LOOPBACK.has(url.hostname);
      }, 'a robot webhook must be https (http only on this machine)'),
    secret: z.string().trim().min(1).max(200).optional(),
  })
  .strict()
  .superRefine((robot, ctx) => {
    if (robot.secret !== undefined && robot.channel !== 'dingtalk') {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: 'a signing secret is for DingTalk robots only',
      });
    }
  });

/**
 * A person's preferred channels, first first: a list, or in a CSV cell `wecom;mail`. Each once.
 */
const preferredChannels = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(/[;,\s]+/)
          .map((c) => c.trim())
          .filter(Boolean)
      : value,
  z
    .array(
      z.enum(CHANNELS, {
        error: (issue) => `"${String(issue.input)}" is not a channel (${CHANNELS.join(', ')})`,
      }),
    )
    .min(1)
    .max(CHANNELS.length)
    .refine((list) => new Set(list).size === list.length, 'each channel at most once'),
);

/**
 * A unit's place in WGS-84 degrees, as phones report positions (not GCJ-02, which Chinese map
 * services show and which lies 100–700 m off): check-ins (签到) are measured against it.
 */
export const unitLocationInput = z
  .object({
    lat: z.number().min(-90, 'a latitude from -90 to 90').max(90, 'a latitude from -90 to 90'),
    lng: z
      .number()
      .min(-180, 'a longitude from -180 to 180')
      .max(180, 'a longitude from -180 to 180'),
  })
  .strict();

export const unitInput = z
  .object({
    id: orgId,
    name: z.string().trim().min(1).max(100),
    type: z.enum(UNIT_TYPES, {
      error: (issue) =>
        typeof issue.input === 'string'
          ? `"${issue.input}" is not a unit type`
          : `a unit type is required (${UNIT_TYPES.join(', ')})`,
    }),
    parentId: orgId.nullable(),
    /** The unit's group robot; `null` removes it, absent keeps what is stored. */
    groupRobot: groupRobotInput.nullable().optional(),
    /** Where the unit is; `null` removes it, absent keeps what is stored. */
    location: unitLocationInput.nullable().optional(),
  })
  .strict();

export const personInput = z
  .object({
    id: orgId,
    name: personNameField,
    email: personEmailField.optional(),
    phone: personPhoneField.optional(),
    userId: z.string().max(64).optional(),
    channels: preferredChannels.optional(),
    /** The person's own robot, for the `wecom` or `dingtalk` channel. */
    groupRobot: groupRobotInput.optional(),
  })
  .strict()
  .superRefine((person, ctx) => {
    // A preference the person has no address for is kept (it is skipped when sending), but a
    // robot channel preferred with a robot of the other vendor is a typo worth naming.
    const robot = person.groupRobot?.channel;
    for (const [i, channel] of (person.channels ?? []).entries()) {
      if ((channel === 'wecom' || channel === 'dingtalk') && robot && robot !== channel) {
        ctx.addIssue({
          code: 'custom',
          path: ['channels', i],
          message: `"${channel}" is preferred but the person's robot is a ${robot} robot`,
        });
      }
    }
  });

export const postInput = z
  .object({
    unitId: orgId,
    role: z.string().regex(/^[a-z][a-z0-9-]{1,40}$/, 'a role key such as grid-worker'),
    personId: orgId,
  })
  .strict();

export const MAX_ITEMS = { units: 20_000, people: 50_000, posts: 50_000 } as const;

export const importBody = z
  .object({
    units: z.array(unitInput).max(MAX_ITEMS.units).default([]),
    people: z.array(personInput).max(MAX_ITEMS.people).default([]),
    posts: z.array(postInput).max(MAX_ITEMS.posts).default([]),
    pairings: z.array(pairingInput).max(MAX_PAIRINGS).default([]),
  })
  .strict();

export const IMPORT_KINDS = ['units', 'people', 'posts', 'pairings'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/**
 * In a CSV an empty parentId cell is a root unit, and a place is two columns, `lat` and `lng`
 * (both or neither; empty cells leave the stored place as it is).
 */
const unitRow = unitInput
  .omit({ location: true })
  .extend({
    parentId: unitInput.shape.parentId.default(null),
    lat: z.coerce.number<string>().pipe(unitLocationInput.shape.lat).optional(),
    lng: z.coerce.number<string>().pipe(unitLocationInput.shape.lng).optional(),
  })
  .superRefine((row, ctx) => {
    if ((row.lat === undefined) !== (row.lng === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [row.lat === undefined ? 'lat' : 'lng'],
        message: 'a place needs both lat and lng',
      });
    }
  });

/** Reads a CSV of one kind into an import; problems name the spreadsheet cell. */
export function importFromCsv(
  kind: ImportKind,
  text: string,
): { input: OrgImport; rows: number[] } {
  const empty: OrgImport = { units: [], people: [], posts: [], pairings: [] };
  const options = { maxRows: kind === 'pairings' ? MAX_PAIRINGS : MAX_ITEMS[kind] };
  switch (kind) {
    case 'units': {
      const rows = readCsvRows(text, unitRow, options);
      const units = rows.map(({ value: { lat, lng, ...unit } }) =>
        lat !== undefined && lng !== undefined ? { ...unit, location: { lat, lng } } : unit,
      );
      return { input: { ...empty, units }, rows: rows.map((r) => r.row) };
    }
    case 'people': {
      const rows = readCsvRows(text, personInput, options);
      return {
        input: { ...empty, people: rows.map((r) => r.value) },
        rows: rows.map((r) => r.row),
      };
    }
    case 'posts': {
      const rows = readCsvRows(text, postInput, options);
      return { input: { ...empty, posts: rows.map((r) => r.value) }, rows: rows.map((r) => r.row) };
    }
    case 'pairings': {
      const rows = readCsvRows(text, pairingInput, options);
      return {
        input: { ...empty, pairings: rows.map((r) => r.value) },
        rows: rows.map((r) => r.row),
      };
    }
  }
}
