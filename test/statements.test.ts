/**
 * How a page's LIMIT is written. SQLite plans with a LIMIT's value, so a statement whose LIMIT is
 * bound is parsed and planned again on every run (the feed's query cost 2.5× as much): there the
 * count is written into the text. PostgreSQL plans a prepared statement for any value and chose
 * better plans with the LIMIT bound. Sql.limit() decides; no statement writes `LIMIT ?` itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import Database from 'better-sqlite3';
import { rowCount } from '../src/db/sql.js';
import { SqliteSql } from '../src/db/sqlite.js';
import { PostgresSql } from '../src/db/postgres.js';
import { keyset } from '../src/services/pagination.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function* sources(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (entry.name.endsWith('.ts')) yield file;
  }
}

t.test('statements take their LIMIT from Sql.limit()', async (t) => {
  const own = [...sources('src')].filter((file) => file !== path.join('src', 'db', 'postgres.ts') && /LIMIT \?/i.test(fs.readFileSync(path.join(ROOT, file), 'utf8')));
  t.same(own, []);
});

t.test('SQLite writes the count, PostgreSQL binds it', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-limit-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const sqlite = new SqliteSql(path.join(dir, 'db.sqlite3'));
  // Opens no connection: the pool connects on first use.
  const postgres = new PostgresSql('postgres://nobody@127.0.0.1:1/none', 1);
  t.teardown(() => Promise.all([sqlite.close(), postgres.close()]));
  t.same(sqlite.limit(51), { sql: 'LIMIT 51', params: [] });
  t.same(postgres.limit(51), { sql: 'LIMIT ?', params: [51] });
  t.same(keyset(sqlite, { limit: 20 }, 'p.id'), { and: '', params: [], order: ' ORDER BY p.id DESC LIMIT 21' });
  t.same(keyset(sqlite, { limit: 20, before: 99 }, 'p.id'), { and: ' AND p.id < ?', params: [99], order: ' ORDER BY p.id DESC LIMIT 21' });
  t.same(keyset(postgres, { limit: 20, before: 99 }, 'p.id'), { and: ' AND p.id < ?', params: [99, 21], order: ' ORDER BY p.id DESC LIMIT ?' });
});

t.test('only whole, non-negative row counts are written into a statement', async (t) => {
  t.equal(rowCount(0), 0);
  t.equal(rowCount(51), 51);
  for (const bad of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) t.throws(() => rowCount(bad), TypeError, String(bad));
  t.throws(() => rowCount('1; DROP TABLE users' as unknown as number), TypeError);
});

t.test('more distinct statements at once than a connection keeps prepared: every one is answered', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-statements-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'db.sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.close();
  const sql = new SqliteSql(file);
  t.teardown(() => sql.close());
  // Past the cache's size it forgets statements, and prepares them again when they come back.
  const texts = Array.from({ length: 1200 }, (_, i) => `SELECT ${i} AS n`);
  const results = await Promise.allSettled(texts.map((text) => sql.read.get<{ n: number }>(text)));
  t.same(
    results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
    [],
  );
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? r.value?.n : null)),
    texts.map((_, i) => i),
  );
  t.same(await sql.read.get('SELECT 0 AS n'), { n: 0 }, 'a forgotten statement, asked again');
});
