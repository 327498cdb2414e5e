/**
 * Dispute figures (化解率) handed from a child case to the round that started it: a dispute
 * process (`measures.disputes`, e.g. one grid's 月排查 report) returns the disputes it found and
 * resolved with its result, and a fan-out sums them over its children, so the round's summary
 * shows the totals instead of a dispatcher typing them. Pure helpers: no command, replay-safe.
 */

/** One case's dispute figures, or a fan-out's totals. */
export interface DisputeFigures {
  disputesFound: number;
  disputesResolved: number;
}

/** A child case's dispute figures, when its result carries them; null for any other result. */
export function childDisputes(result: unknown): DisputeFigures | null {
  const figures = (result as { disputes?: Partial<DisputeFigures> } | null)?.disputes;
  if (typeof figures?.disputesFound !== 'number' || typeof figures.disputesResolved !== 'number') {
    return null;
  }
  return { disputesFound: figures.disputesFound, disputesResolved: figures.disputesResolved };
}

/**
 * The totals over the children that carried figures, with the round's 化解率 (resolved ÷ found,
 * 4 decimals, as the metrics give it) when anything was found; null when no child carried any.
 */
export function disputeTotalOf(
  figures: ReadonlyArray<DisputeFigures | null>,
): (DisputeFigures & { disputeResolutionRate?: number }) | null {
  const present = figures.filter((f): f is DisputeFigures => f !== null);
  if (present.length === 0) return null;
  const disputesFound = present.reduce((n, f) => n + f.disputesFound, 0);
  const disputesResolved = present.reduce((n, f) => n + f.disputesResolved, 0);
  return {
    disputesFound,
    disputesResolved,
    ...(disputesFound > 0
      ? { disputeResolutionRate: Math.round((disputesResolved / disputesFound) * 10_000) / 10_000 }
      : {}),
  };
}
