/** Keyset pagination by id: `?limit=` (default 50, max 200) and `?before=<id>`. */
import type { Sql } from '../db/sql.js';

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
  /**
   * Everything the items are made of, as texts, where the service has them for free (packed
   * rows, with whatever else went into them): pages with equal fingerprints are presented
   * alike, so their JSON is kept by it (src/http/presentedPages.ts). Parts, not one text: a page
   * read again unchanged brings the very same text (ReadRunner.text), which compares at once,
   * where a text joined anew would be copied to be compared.
   */
  fingerprint?: readonly string[];
}

/**
 * A page named by its fingerprint before its rows are parsed: built (once) only if its items or
 * its cursor are read — not when the JSON its fingerprint names is kept already.
 */
export class FingerprintedPage<T> implements Page<T> {
  private built?: Page<T>;

  constructor(
    readonly fingerprint: readonly string[],
    private readonly build: () => Page<T>,
  ) {}

  get items(): T[] {
    this.built ??= this.build();
    return this.built.items;
  }

  get nextBefore(): number | null {
    this.built ??= this.build();
    return this.built.nextBefore;
  }
}

/** Cuts the look-ahead row fetched by keyset() and computes the next cursor. */
export function toPage<T>(rows: T[], page: PageRequest, idOf: (row: T) => number): Page<T> {
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return { items, nextBefore: rows.length > page.limit && last !== undefined ? idOf(last) : null };
}

/**
 * One page in raw SQL, written `…${and}${order}` with `params` bound last: `and` is the keyset
 * condition (` AND <column> < ?`, or nothing on the first page), `order` is ` ORDER BY <column>
 * DESC LIMIT …`, its count including the look-ahead row toPage() cuts.
 */
export function keyset(sql: Pick<Sql, 'limit'>, page: PageRequest, column: string): { and: string; params: number[]; order: string } {
  const limit = sql.limit(page.limit + 1);
  const order = ` ORDER BY ${column} DESC ${limit.sql}`;
  return page.before !== undefined ? { and: ` AND ${column} < ?`, params: [page.before, ...limit.params], order } : { and: '', params: limit.params, order };
}
