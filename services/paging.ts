/** A page of a list as the API's `page` and `pageSize` query parameters ask for it (1-based). */
export interface PageRequest {
  page: number;
  pageSize: number;
}

/** How many documents come before the page. */
export function skipOf(request: PageRequest): number {
  return (request.page - 1) * request.pageSize;
}

/**
 * The total for a page of `found` documents. A short page is the last one, so its length gives
 * the total without a second query (the common case: a work list that fits on one page).
 */
export async function totalOf(
  request: PageRequest,
  found: number,
  count: () => Promise<number>,
): Promise<number> {
  const skip = skipOf(request);
  const isLastPage = found < request.pageSize && (found > 0 || skip === 0);
  return isLastPage ? skip + found : count();
}
