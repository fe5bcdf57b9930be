/**
 * Text reads on PostgreSQL (src/db/postgresTexts.ts): a page is read again only when something
 * committed since, whoever committed it. Runs in both passes of `npm test` (it always uses
 * PostgreSQL); without it, it fails in CI and skips loudly elsewhere.
 */
import t from 'tap';
import pg from 'pg';
import { PostgresSql } from '../src/db/postgres.js';
import { snapshotTexts, unlessSnapshot } from '../src/db/postgresTexts.js';
import type { SqlRunner } from '../src/db/sql.js';
import { createPgDatabase, pgAvailable } from './helpers/server.js';

const PG_BASE = process.env.JVAI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const skip = (await pgAvailable(PG_BASE)) ? false : `*** PostgreSQL at ${PG_BASE} not reachable: its text reads NOT tested`;

t.test('text reads: the remembered text while nothing commits, the new one after any commit', { skip }, async (t) => {
  const db = await createPgDatabase(PG_BASE);
  t.teardown(db.drop);
  const sql = new PostgresSql(db.url, 4);
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  t.teardown(async () => {
    await other.end();
    await sql.close();
  });
  await other.query('CREATE TABLE items (id serial PRIMARY KEY, owner int NOT NULL, label text NOT NULL)');
  const page = `SELECT coalesce(json_agg(label ORDER BY id)::text, '[]') AS page FROM items WHERE owner = ?`;
  /** The page read as a plain row, past the memo. */
  const expected = async (owner: number) => (await sql.read.get<{ page: string }>(page, [owner]))?.page;
  const add = (owner: number, label: string) => sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [owner, label]));

  await add(1, 'a');
  await add(2, 'b');
  for (let round = 0; round < 3; round++) {
    const texts = await Promise.all(Array.from({ length: 8 }, (_, i) => sql.read.text(page, [1 + (i % 2)])));
    for (const [i, text] of texts.entries()) t.equal(text, await expected(1 + (i % 2)), `round ${round}: owner ${1 + (i % 2)}'s current text`);
    // A change between reads shows on the very next one.
    await add(1 + (round % 2), `c${round}`);
    t.equal(await sql.read.text(page, [1 + (round % 2)]), await expected(1 + (round % 2)), `round ${round}: our own write shows`);
  }

  // Another connection's commit (another process, `jvai admin`) shows on the next read too.
  t.equal(await sql.read.text(page, [2]), await expected(2));
  await other.query('INSERT INTO items (owner, label) VALUES (2, $1)', ['from-elsewhere']);
  t.match(await sql.read.text(page, [2]), /from-elsewhere/, "another connection's commit shows");
  // Even one that only deletes, or that commits while nothing of ours is in flight.
  await other.query(`DELETE FROM items WHERE label = 'from-elsewhere'`);
  t.notMatch(await sql.read.text(page, [2]), /from-elsewhere/, "another connection's delete shows");

  // A transaction still open when the page is read, committed after: the next read sees it.
  await other.query('BEGIN');
  await other.query(`INSERT INTO items (owner, label) VALUES (1, 'late')`);
  t.notMatch(await sql.read.text(page, [1]), /late/, 'not yet committed: not seen');
  t.notMatch(await sql.read.text(page, [1]), /late/, 'and still not');
  await other.query('COMMIT');
  t.match(await sql.read.text(page, [1]), /late/, 'committed: seen on the next read');

  t.equal(await sql.read.text('SELECT ?::text AS v', ['short']), 'short', 'a short text');
  t.equal(await sql.read.text('SELECT v::text FROM (SELECT 1 AS v) s WHERE v = ?', [2]), undefined, 'no row: undefined');
  t.equal(await sql.read.text('SELECT v::text FROM (SELECT 1 AS v) s WHERE v = ?', [2]), undefined, 'and again');
});

t.test('text reads: under an unchanged snapshot the page statement does not run', { skip }, async (t) => {
  const client = new pg.Client({ connectionString: PG_BASE });
  await client.connect();
  t.teardown(() => client.end());
  // A REPEATABLE READ transaction keeps one snapshot, whatever else the cluster commits meanwhile.
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  const { snapshot } = (await client.query('SELECT pg_current_snapshot()::text AS snapshot')).rows[0];
  const page = 'SELECT count(*)::text FROM generate_series(1, $2)';
  const plan = async (remembered: string) =>
    (await client.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${unlessSnapshot(page).replace('?', '$1')}`, [remembered, 1000])).rows.map((r) => r['QUERY PLAN']).join('\n');
  t.match(await plan(snapshot), /Aggregate \(never executed\)/, 'the same snapshot: the page is not read');
  t.match(await plan(''), /Aggregate \(actual rows=1 loops=1\)/, 'another snapshot: it is');
  const both = (await client.query(unlessSnapshot(page).replace('?', '$1'), [snapshot, 1000])).rows[0];
  t.same(both, { snapshot, text: null });
  await client.query('COMMIT');
});

t.test('text reads: what is kept, with what snapshot, and when it is given back', async (t) => {
  const asked: { snapshot: unknown; params: unknown[] }[] = [];
  let now = 's1';
  let page: string | null = 'one';
  // The statement as PostgreSQL would answer it.
  const read = {
    get: async (_sql: string, [snapshot, ...params]: unknown[]) => {
      asked.push({ snapshot, params });
      return { snapshot: now, text: snapshot === now ? null : page };
    },
  } as unknown as SqlRunner;
  const text = snapshotTexts(read);
  t.equal(await text('q', [1]), 'one');
  t.equal(await text('q', [1]), 'one', 'the same snapshot: the kept text');
  t.same(asked.map((a) => a.snapshot), ['', 's1'], 'asked first with no snapshot, then with the kept one');
  t.same(asked[1]!.params, [1], "the statement's values follow");
  page = 'two';
  t.equal(await text('q', [1]), 'one', 'a change the snapshot does not show is not read');
  now = 's2';
  t.equal(await text('q', [1]), 'two', 'a new snapshot: the new text');
  t.equal(await text('q', [2]), 'two', 'other values: asked without a snapshot');
  t.equal(asked.at(-1)!.snapshot, '');
  page = null;
  now = 's3';
  t.equal(await text('q', [1]), undefined, 'no row any more');
  t.equal(asked.at(-1)!.snapshot, 's2');
  t.equal(await text('q', [1]), undefined);
  t.equal(asked.at(-1)!.snapshot, '', 'nothing kept for no row');
});

t.test('PostgreSQL older than 13 is refused, by name', { skip }, async (t) => {
  const sql = new PostgresSql(PG_BASE, 1);
  t.teardown(() => sql.close());
  await t.resolves(sql.requireVersion(), 'this server is recent enough');
  Object.defineProperty(sql, 'read', { value: { ...sql.read, get: async () => ({ v: '120022' }) } });
  await t.rejects(sql.requireVersion(), /jvai needs PostgreSQL 13 or later; this server is version 12/);
});
