/**
 * Sequelize on SQLite, through what we own (src/db/sqliteDriver.ts, src/db/sqliteTurns.ts): every
 * handle it opens is durable (synchronous=FULL, WAL), and its writes take turns with the raw
 * layer's writer instead of racing it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { QueryTypes, type Sequelize } from 'sequelize';
import { closeDatabase, connectDatabase, sqlOf, transaction } from '../src/db/connection.js';

async function freshDb(t: Test): Promise<Sequelize> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-sqlz-'));
  const sequelize = await connectDatabase({ dataDir: dir });
  t.teardown(async () => {
    await closeDatabase(sequelize);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await sequelize.query('CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL)');
  return sequelize;
}

const pragmas = async (sequelize: Sequelize, options: object = {}) => {
  const one = async (name: string) => Object.values((await sequelize.query<Record<string, unknown>>(`PRAGMA ${name}`, { type: QueryTypes.SELECT, ...options }))[0] ?? {})[0];
  return { synchronous: await one('synchronous'), journal: await one('journal_mode'), foreignKeys: await one('foreign_keys'), busyTimeout: await one('busy_timeout') };
};

const settledWithin = (promise: Promise<unknown>, ms: number) => Promise.race([promise.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);

t.test('every handle Sequelize opens is durable: outside transactions and in each one', async (t) => {
  const sequelize = await freshDb(t);
  // The busy timeout shows our configuration ran on the handle (SQLite's default is 0).
  const durable = { synchronous: 2, journal: 'wal', foreignKeys: 1, busyTimeout: 5000 };
  t.same(await pragmas(sequelize), durable, 'outside transactions');
  t.same(await transaction(sequelize, (tx) => pragmas(sequelize, { transaction: tx })), durable, 'in a transaction');
  t.same(await transaction(sequelize, (tx) => pragmas(sequelize, { transaction: tx })), durable, 'in the next one');
});

t.test('Sequelize writes wait for the writer; its reads do not', async (t) => {
  const sequelize = await freshDb(t);
  let release!: () => void;
  const held = sqlOf(sequelize).exclusive(() => new Promise<void>((resolve) => (release = resolve)));
  const insert = sequelize.query("INSERT INTO items (label) VALUES ('a')");
  const inTransaction = transaction(sequelize, (tx) => sequelize.query("INSERT INTO items (label) VALUES ('b')", { transaction: tx }));
  t.ok(await settledWithin(sequelize.query('SELECT COUNT(*) AS n FROM items', { type: QueryTypes.SELECT }), 1000), 'a read goes ahead');
  t.notOk(await settledWithin(Promise.race([insert, inTransaction]), 200), 'writes wait while the writer has the turn');
  release();
  await Promise.all([held, insert, inTransaction]);
  t.same(await sequelize.query('SELECT label FROM items ORDER BY label', { type: QueryTypes.SELECT }), [{ label: 'a' }, { label: 'b' }], 'both written once the turn is given back');
});

t.test('a transaction opened around transaction() is refused instead of racing the writer', async (t) => {
  const sequelize = await freshDb(t);
  await t.rejects(
    sequelize.transaction((tx) => sequelize.query("INSERT INTO items (label) VALUES ('x')", { transaction: tx })),
    /SQLite transactions must be opened with transaction\(\)/,
  );
  t.same(await sequelize.query('SELECT COUNT(*) AS n FROM items', { type: QueryTypes.SELECT }), [{ n: 0 }]);
});
