/**
 * Chinese labels the guide shows beside the English keys of case end statuses (account roles and
 * unit types are named by common/roles.ts and lang/vocabulary.ts).
 */

export const STATUS_LABELS: Readonly<Record<string, string>> = {
  closed: 'closed (办结)',
  rejected: 'rejected (不予受理)',
  cancelled: 'cancelled (撤销)',
};
