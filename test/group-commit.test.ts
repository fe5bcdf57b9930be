/**
 * The SQLite writer's group commit (src/db/sqlite.ts), on a real database file: concurrent jobs
 * share transactions, each caller is answered only after its batch committed, a failing job
 * fails alone, and announcements leave in the order they were registered; checkpoints run beside
 * the commits, not inside them, and keep the WAL short under a steady stream of writes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import Database from 'better-sqlite3';
import { SqliteSql } from '../src/db/sqlite.js';
import { Checkpointer } from '../src/db/sqliteThreads.js';

async function freshDb(t: Test, checkpointMs?: number, readers?: number): Promise<{ sql: SqliteSql; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-gc-'));
  const file = path.join(dir, 'db.sqlite3');
  const db = new Database(file);
  db.exec('PRAGMA journal_mode = WAL; CREATE TABLE items (id INTEGER PRIMARY KEY, owner INTEGER NOT NULL, label TEXT NOT NULL UNIQUE)');
  db.close();
  const sql = new SqliteSql(file, checkpointMs, readers);
  t.teardown(async () => {
    await sql.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { sql, file };
}

t.test('concurrent writes: all committed, each visible once its caller is answered', async (t) => {
  const { sql } = await freshDb(t);
  const writes = Array.from({ length: 200 }, (_, i) =>
    sql
      .write(async (tx) => (await tx.get<{ id: number }>('INSERT INTO items (owner, label) VALUES (?, ?) RETURNING id', [i % 7, `item-${i}`]))!.id)
      .then(async (id) => {
        // Answered means committed: a read on another connection already sees it.
        const row = await sql.read.get<{ label: string }>('SELECT label FROM items WHERE id = ?', [id]);
        return row?.label;
      }),
  );
  const labels = await Promise.all(writes);
  t.same(labels, Array.from({ length: 200 }, (_, i) => `item-${i}`));
  t.equal((await sql.read.get<{ n: number }>('SELECT COUNT(*) AS n FROM items'))!.n, 200);
});

t.test('one failing write among good ones fails alone and leaves nothing behind', async (t) => {
  const { sql } = await freshDb(t);
  const published: string[] = [];
  const job = (label: string, extra?: string) =>
    sql.write(async (tx) => {
      await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, label]);
      // A second statement that violates the UNIQUE label: the job's first insert must go too.
      if (extra) await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, extra]);
      tx.afterCommit(() => published.push(label));
      return label;
    });
  const results = await Promise.allSettled([job('a'), job('b'), job('bad', 'a'), job('c'), job('d')]);
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
  t.match((results[2] as PromiseRejectedResult).reason, { code: 'SQLITE_CONSTRAINT' });
  const rows = await sql.read.all<{ label: string }>('SELECT label FROM items ORDER BY label');
  t.same(
    rows.map((r) => r.label),
    ['a', 'b', 'c', 'd'],
    'the bad job wrote nothing, its neighbours everything (once)',
  );
  t.same([...published].sort(), ['a', 'b', 'c', 'd'], 'announced once each, the failed one never');
});

t.test('announcements leave in the order they were registered', async (t) => {
  const { sql } = await freshDb(t);
  const registered: number[] = [];
  const published: number[] = [];
  // Jobs of different shapes (some read first) interleave on the writer, in no promised order;
  // their announcements leave in the order the jobs registered them.
  const jobs = Array.from({ length: 50 }, (_, i) =>
    sql.write(async (tx) => {
      if (i % 3 === 0) await tx.get('SELECT COUNT(*) FROM items');
      await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [i, `job-${i}`]);
      registered.push(i);
      tx.afterCommit(() => published.push(i));
    }),
  );
  await Promise.all(jobs);
  t.equal(published.length, 50);
  t.same(published, registered);
});

t.test("a batch's shared state is written once, before COMMIT, without a failed job's part", async (t) => {
  const { sql } = await freshDb(t);
  const key = {};
  let flushes = 0;
  /** Each job adds its label to the batch's list; the list is written as one row per batch. */
  const job = (label: string, fail = false) =>
    sql.write(async (tx) => {
      await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, label]);
      const labels = tx.shared(key, () => [] as string[], async (all, db) => {
        flushes++;
        await db.run('INSERT INTO items (owner, label) VALUES (?, ?)', [2, all.join(',')]);
      });
      labels.push(label);
      if (fail) throw new Error('refused');
    });
  // Asked for together, so they go in one batch; the failing one makes the others run again.
  const results = await Promise.allSettled([job('a'), job('b'), job('bad', true), job('c')]);
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  const rows = await sql.read.all<{ owner: number; label: string }>('SELECT owner, label FROM items ORDER BY owner, label');
  // The jobs' statements run in no promised order, so neither do their parts of the shared state.
  const shared = rows.filter((r) => r.owner === 2).map((r) => r.label.split(',').sort().join(','));
  t.same(
    rows.filter((r) => r.owner === 1).map((r) => r.label),
    ['a', 'b', 'c'],
  );
  t.same(shared, ['a,b,c'], "one shared row, with every good job's part and not the failed one's");
  t.equal(flushes, 1, 'flushed once: the rolled-back attempt never got that far');
});

t.test('a shared write that fails fails its whole batch, which leaves nothing behind', async (t) => {
  const { sql } = await freshDb(t);
  const key = {};
  const job = (label: string) =>
    sql.write(async (tx) => {
      await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, label]);
      // Every batch writes the same label once: the UNIQUE constraint refuses the second batch's.
      tx.shared(key, () => null, (_, db) => db.run('INSERT INTO items (owner, label) VALUES (?, ?)', [2, 'shared']).then(() => undefined));
    });
  await Promise.all([job('a'), job('b')]);
  const second = await Promise.allSettled([job('c'), job('d')]);
  t.same(
    second.map((r) => r.status),
    ['rejected', 'rejected'],
  );
  t.same((await sql.read.all<{ label: string }>('SELECT label FROM items ORDER BY id')).map((r) => r.label), ['a', 'b', 'shared']);
  t.equal(await sql.write(async (tx) => (await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, 'after'])).changes), 1, 'the writer goes on');
});

t.test('a write is refused cleanly when the database cannot take it, and the writer goes on', async (t) => {
  const { sql } = await freshDb(t);
  await t.rejects(sql.write((tx) => tx.run('INSERT INTO nowhere VALUES (1)')), { code: 'SQLITE_ERROR' });
  t.equal(await sql.write(async (tx) => (await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, 'after'])).changes), 1);
});

t.test('checkpoints: beside the commits, never inside one', async (t) => {
  const { sql, file } = await freshDb(t, 60_000);
  const size = () => fs.statSync(file).size;
  const before = size();
  // ~2,000 rows of 2 KB (and their index): SQLite's default would checkpoint inside a commit at 1,000 pages.
  const label = (round: number, i: number) => `${round}-${i}-${'x'.repeat(2000)}`;
  for (let round = 0; round < 8; round++) {
    await Promise.all(Array.from({ length: 250 }, (_, i) => sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [round, label(round, i)]))));
  }
  t.equal(size(), before, 'the commits left the database file alone: what they wrote is in the WAL');
  await sql.checkpoint();
  t.ok(size() > before + 4_000_000, 'the checkpointer copied it into the database file');
  t.equal((await sql.read.get<{ n: number }>('SELECT COUNT(*) AS n FROM items'))?.n, 2000);
});

t.test('checkpoints: the timer runs them while writes go on', async (t) => {
  const { sql, file } = await freshDb(t, 50);
  const before = fs.statSync(file).size;
  await Promise.all(Array.from({ length: 300 }, (_, i) => sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [i, `${i}-${'y'.repeat(1000)}`]))));
  const deadline = Date.now() + 5000;
  while (fs.statSync(file).size === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  t.ok(fs.statSync(file).size > before, 'copied into the database file within a few ticks');
});

t.test('checkpoints: under a steady stream of writes the WAL starts over instead of growing', async (t) => {
  const { sql, file } = await freshDb(t, 50);
  const wal = `${file}-wal`;
  // Four writers that never pause for 1.5 s: some batch commits during every checkpoint.
  let rows = 0;
  let largest = 0;
  const until = Date.now() + 1500;
  const stream = async (owner: number) => {
    for (let i = 0; Date.now() < until; i++) {
      await sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [owner, `${owner}-${i}-${'z'.repeat(4000)}`]));
      rows++;
      largest = Math.max(largest, fs.statSync(wal).size);
    }
  };
  await Promise.all([1, 2, 3, 4].map(stream));
  const written = rows * 4000;
  t.ok(written > 4_000_000, `enough was written to tell (${rows} rows)`);
  // Growing, it held every frame: ~5× the rows' bytes (a page is written again by each batch).
  t.ok(largest < written, `the WAL reached ${largest} bytes for ${written} bytes of rows`);
  t.equal((await sql.read.get<{ n: number }>('SELECT COUNT(*) AS n FROM items'))?.n, rows, 'every row is there');
});

t.test('checkpoints: the pass with writes held leaves everything in the database file, or yields to another process writing', async (t) => {
  const { sql, file } = await freshDb(t, 60_000);
  const rows = (db: Database.Database) => (db.prepare('SELECT COUNT(*) AS n FROM items').get() as { n: number }).n;
  const write = (n: number, from: number) =>
    Promise.all(Array.from({ length: n }, (_, i) => sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, `${from + i}-${'h'.repeat(1000)}`]))));
  const checkpointer = new Checkpointer(file);
  t.teardown(() => checkpointer.close());
  /** The database file alone, as a crash that lost the WAL would leave it. */
  const fileAlone = () => {
    const copy = `${file}.alone`;
    fs.copyFileSync(file, copy);
    const db = new Database(copy, { readonly: true });
    try {
      return rows(db);
    } finally {
      db.close();
      fs.rmSync(copy);
    }
  };

  await write(200, 0);
  const release = await sql.writeTurn();
  await checkpointer.runHeld();
  release();
  t.equal(fileAlone(), 200, 'every committed row is in the database file');
  const walSize = fs.statSync(`${file}-wal`).size;
  await write(10, 200);
  t.equal(fs.statSync(`${file}-wal`).size, walSize, 'the next write starts the WAL over instead of growing it');

  // Another process in the middle of a write: its lock is left alone, and what was committed is copied all the same.
  await write(50, 210);
  const other = new Database(file);
  t.teardown(() => other.close());
  other.exec("BEGIN IMMEDIATE; INSERT INTO items (owner, label) VALUES (2, 'other')");
  await checkpointer.runHeld();
  t.equal(fileAlone(), 260, "the rows committed before it are in the database file, the other process's not yet");
  other.exec('COMMIT');
  t.equal((await sql.read.get<{ n: number }>('SELECT COUNT(*) AS n FROM items'))?.n, 261, 'and its write committed');
});

t.test("another process's write lock: a batch waits for it with the event loop free, then commits", async (t) => {
  const { sql, file } = await freshDb(t);
  // The writer exists before the other connection takes the lock (opening it reads the schema).
  await sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, 'first']));
  const other = new Database(file);
  t.teardown(() => other.close());
  other.exec("BEGIN IMMEDIATE; INSERT INTO items (owner, label) VALUES (2, 'other')");
  let answered = false;
  const write = sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, 'waited'])).then(() => (answered = true));
  // Timers run while the batch waits: SQLite is not sleeping on the main thread.
  let ticks = 0;
  const started = Date.now();
  while (Date.now() - started < 200) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    ticks++;
  }
  t.ok(ticks >= 10, `the event loop ran (${ticks} timer turns in 200 ms)`);
  t.notOk(answered, 'not answered while the other connection holds the lock');
  other.exec('COMMIT');
  await write;
  t.same((await sql.read.all<{ label: string }>('SELECT label FROM items ORDER BY id')).map((r) => r.label), ['first', 'other', 'waited']);
});

t.test('nobody is answered before the WAL is synced; a failed sync fails the batch', async (t) => {
  const { sql } = await freshDb(t);
  await sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, 'opened']));
  const fdatasync = fs.fdatasync;
  t.teardown(() => {
    fs.fdatasync = fdatasync;
  });
  // Syncs that wait until the test lets them finish.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let syncs = 0;
  fs.fdatasync = ((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
    syncs++;
    void released.then(() => fdatasync(fd, callback));
  }) as typeof fs.fdatasync;
  const published: string[] = [];
  let answered = false;
  const write = sql
    .write(async (tx) => {
      await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, 'synced']);
      tx.afterCommit(() => published.push('synced'));
    })
    .then(() => (answered = true));
  while (!syncs) await new Promise((resolve) => setTimeout(resolve, 5));
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.notOk(answered, 'committed, but not answered before the sync');
  t.same(published, [], 'nor announced');
  release();
  await write;
  t.same(published, ['synced']);

  fs.fdatasync = ((_fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
    process.nextTick(callback, Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  }) as typeof fs.fdatasync;
  let announced = false;
  await t.rejects(
    sql.write(async (tx) => {
      await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, 'unsure']);
      tx.afterCommit(() => (announced = true));
    }),
    { code: 'EIO' },
    'whether it is on disk is unknown: the caller is not told it was written',
  );
  t.notOk(announced, 'nor is it announced');
  fs.fdatasync = fdatasync;
  t.equal(await sql.write(async (tx) => (await tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [1, 'after'])).changes), 1, 'the writer goes on');
});

t.test('reads on the reader threads: whole numbers bound as integers, errors with their codes, nothing after close', async (t) => {
  const { sql } = await freshDb(t, undefined, 2);
  t.same(await sql.read.get('SELECT typeof(?) AS a, typeof(?) AS b, typeof(?) AS c, ? AS d', [5, 5.5, true, new Date('2026-12-05T10:00:00Z')]), {
    a: 'integer',
    b: 'real',
    c: 'integer',
    d: '2026-12-05 10:00:00.000 +00:00',
  });
  t.same(await sql.write((tx) => tx.get('SELECT typeof(?) AS a', [7])), { a: 'integer' }, 'the writer binds them alike');
  await t.rejects(sql.read.all('SELECT * FROM nowhere'), { message: /no such table: nowhere/, code: 'SQLITE_ERROR' });
  await t.rejects(sql.read.run('DELETE FROM items'), { code: 'SQLITE_READONLY' }, 'readers cannot write');
  // Many reads at once go to both threads and all come back, each to its caller.
  const many = await Promise.all(Array.from({ length: 100 }, (_, i) => sql.read.get<{ n: number }>('SELECT ? AS n', [i])));
  t.same(
    many.map((r) => r?.n),
    Array.from({ length: 100 }, (_, i) => i),
  );
  await sql.close();
  await t.rejects(sql.read.get('SELECT 1'), /no SQLite reader thread/);
  await t.rejects(sql.write(async () => undefined), /closed/);
});

t.test('text reads: a text confirmed instead of sent again is still the current one, whatever the thread and whoever wrote', async (t) => {
  for (const readers of [1, 2]) {
    const { sql, file } = await freshDb(t, undefined, readers);
    // Pages of 5 KB and more: what the memo saves is sending them.
    const page = `SELECT json_group_array(label) FROM (SELECT label FROM items WHERE owner = ? ORDER BY id)`;
    const pad = 'x'.repeat(5000);
    const add = (owner: number, label: string) => sql.write((tx) => tx.run('INSERT INTO items (owner, label) VALUES (?, ?)', [owner, `${label}-${pad}`]));
    const expected = async (owner: number) => JSON.stringify((await sql.read.all<{ label: string }>('SELECT label FROM items WHERE owner = ? ORDER BY id', [owner])).map((r) => r.label));
    await add(1, 'a');
    await add(2, 'b');
    for (let round = 0; round < 3; round++) {
      // In flight together, so both threads (where there are two) answer for both owners.
      const texts = await Promise.all(Array.from({ length: 8 }, (_, i) => sql.read.text(page, [1 + (i % 2)])));
      for (const [i, text] of texts.entries()) t.equal(text, await expected(1 + (i % 2)), `${readers} reader(s), round ${round}: owner ${1 + (i % 2)}'s current text`);
      // A change between reads shows on the very next one, then stays.
      await add(1 + (round % 2), `c${round}`);
      t.equal(await sql.read.text(page, [1 + (round % 2)]), await expected(1 + (round % 2)), `${readers} reader(s), round ${round}: the change shows`);
    }
    // Back to a text sent before: equal to an old one, not to the last one.
    await sql.write((tx) => tx.run('DELETE FROM items WHERE owner = 1 AND label LIKE ?', ['c%']));
    t.equal(await sql.read.text(page, [1]), await expected(1), `${readers} reader(s): back to an earlier text`);
    t.equal(await sql.read.text(page, [1]), await expected(1), `${readers} reader(s): and again`);
    // A commit by another connection (another process: `jvai admin`) shows on the next read too.
    t.equal(await sql.read.text(page, [2]), await expected(2), `${readers} reader(s): read just before`);
    const other = new Database(file);
    other.prepare('INSERT INTO items (owner, label) VALUES (?, ?)').run(2, 'from-elsewhere');
    other.close();
    t.equal(await sql.read.text(page, [2]), await expected(2), `${readers} reader(s): another connection's commit shows`);
    t.match(await sql.read.text(page, [2]), /from-elsewhere/);
    t.equal(await sql.read.text('SELECT ? AS v', ['short']), 'short', 'a short text');
    t.equal(await sql.read.text('SELECT v FROM (SELECT 1 AS v) WHERE v = ?', [2]), undefined, 'no row: undefined');
  }
});
