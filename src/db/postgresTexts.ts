/**
 * Text reads on PostgreSQL (ReadRunner.text), read again only when something was committed since
 * — what `PRAGMA data_version` gives SQLite. A statement's snapshot (`pg_current_snapshot()`:
 * xmin, xmax and the transactions in progress) changes whenever any transaction of the cluster
 * commits or aborts: a commit either leaves the in-progress list or, if it began after the
 * snapshot's xmax, moves xmax past itself. Two equal snapshots therefore see the same data, so a
 * text read under a snapshot equal to the one remembered with it is still that text.
 *
 * The check and the read are one statement, one round trip: the page is a scalar subquery in the
 * ELSE of a CASE, an InitPlan that PostgreSQL runs only when that branch is taken.
 */
import { textKey, textMemo, type SqlRunner, type SqlValue } from './sql.js';

const SNAPSHOT = 'pg_current_snapshot()::text';

/**
 * `sql` read only when the snapshot differs from the first value bound (the rest are `sql`'s):
 * one row of `snapshot` and `text` (NULL when the snapshot was that one).
 */
export const unlessSnapshot = (sql: string): string => `SELECT ${SNAPSHOT} AS snapshot, CASE WHEN ${SNAPSHOT} = ? THEN NULL ELSE (${sql}) END AS text`;

/** `text(sql, params)` for statements returning at most one row of one column, run through `read`. */
export function snapshotTexts(read: SqlRunner): (sql: string, params?: readonly SqlValue[]) => Promise<string | undefined> {
  /** Each statement and values' last text, and the snapshot it was read under. */
  const known = textMemo<{ text: string; snapshot: string }>();
  return async (sql, params = []) => {
    const key = textKey(sql, params);
    const kept = known.get(key);
    // No snapshot text is empty: with nothing kept the page is always read.
    const row = await read.get<{ snapshot: string; text: string | null }>(unlessSnapshot(sql), [kept?.snapshot ?? '', ...params]);
    if (!row) throw new Error('a snapshot read returned no row');
    if (kept && row.snapshot === kept.snapshot) return kept.text;
    if (row.text === null) {
      known.delete(key);
      return undefined;
    }
    known.set(key, { text: row.text, snapshot: row.snapshot });
    return row.text;
  };
}
