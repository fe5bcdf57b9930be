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
 * `LIMIT n` written into the statement, never bound. SQLite plans with a LIMIT's value, so a
 * statement whose LIMIT is a parameter is parsed and planned again every time it runs: that cost
 * the feed's query more than running it did (240 µs a page against 95 µs). Page sizes are few, so
 * the statement texts stay few.
 */
export function limitSql(rows: number): string {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new TypeError(`not a row count: ${rows}`);
  return `LIMIT ${rows}`;
}

/**
 * One page in raw SQL: `and` is the keyset condition (` AND <column> < ?`, or nothing on the
 * first page) with its `params`; `order` is ` ORDER BY <column> DESC LIMIT n`, n counting the
 * look-ahead row toPage() cuts.
 */
export function keyset(page: PageRequest, column: string): { and: string; params: number[]; order: string } {
  const order = ` ORDER BY ${column} DESC ${limitSql(page.limit + 1)}`;
  return page.before !== undefined ? { and: ` AND ${column} < ?`, params: [page.before], order } : { and: '', params: [], order };
}
