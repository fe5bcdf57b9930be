/** Keyset pagination by id: `?limit=` (default 50, max 200) and `?before=<id>`. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

export interface PageRequest {
  limit: number;
  before?: number;
}

export interface Page<T> {
  items: T[];
  /** Cursor for the next (older) page, or null at the end. */
  nextBefore: number | null;
}

/** Cuts the look-ahead row fetched by keyset() and computes the next cursor. */
export function toPage<T>(rows: T[], page: PageRequest, idOf: (row: T) => number): Page<T> {
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items, nextBefore: rows.length > page.limit && last !== undefined ? idOf(last) : null };
}

/**
 * One page in raw SQL: `and` is the keyset condition (` AND <column> < ?`, or nothing on the
 * first page) with its `params`, and `limit` includes the look-ahead row toPage() cuts.
 */
export function keyset(page: PageRequest, column: string): { and: string; params: number[]; limit: number } {
  return page.before ? { and: ` AND ${column} < ?`, params: [page.before], limit: page.limit + 1 } : { and: '', params: [], limit: page.limit + 1 };
}
