/** What statements a request runs, and how the database plans them: for tests that pin an index walk. */
import type { Test } from 'tap';
import type { Sql, SqlValue } from '../../src/db/sql.js';

export interface Statement {
  text: string;
  params: readonly SqlValue[];
}

/** Records the reads whose text contains `marker` while `during` runs. */
export async function statementsDuring(t: Test, sql: Sql, marker: string, during: () => Promise<unknown>): Promise<Statement[]> {
  const { read } = sql;
  const { all, get, text } = read;
  const seen: Statement[] = [];
  const recording = <F extends (text: string, params?: readonly SqlValue[]) => unknown>(f: F): F =>
    ((text: string, params: readonly SqlValue[] = []) => {
      if (text.includes(marker)) seen.push({ text, params });
      return f.call(read, text, params);
    }) as F;
  const restore = () => Object.assign(read, { all, get, text });
  t.teardown(restore);
  Object.assign(read, { all: recording(all), get: recording(get), text: recording(text) });
  try {
    await during();
  } finally {
    restore();
  }
  return seen;
}

/**
 * The plan of a statement as text. On PostgreSQL scans are ruled out: a test database is tiny, so
 * an index shows up only where the query can use it — which is what these tests pin.
 */
export async function planOf(sql: Sql, { text, params }: Statement): Promise<string> {
  if (sql.dialect === 'sqlite') return (await sql.read.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${text}`, params)).map((r) => r.detail).join('\n');
  return sql.write(async (tx) => {
    await tx.run('SET LOCAL enable_seqscan = off');
    await tx.run('SET LOCAL enable_bitmapscan = off');
    return (await tx.all<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params)).map((r) => r['QUERY PLAN']).join('\n');
  });
}
