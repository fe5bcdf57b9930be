/**
 * Sequelize on SQLite, through what we own (src/db/sqliteDriver.ts, src/db/sqliteTurns.ts): every
 * handle it opens is durable (synchronous=FULL, WAL), it reads back what node-sqlite3 would have
 * given it, and its writes take turns with the raw
 * layer's writer instead of racing it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { DataTypes, ForeignKeyConstraintError, QueryTypes, UniqueConstraintError, type Sequelize } from 'sequelize';
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

t.test('what Sequelize reads back from the driver: ids of inserts and bulk inserts, bound values, constraint errors', async (t) => {
  const sequelize = await freshDb(t);
  await sequelize.query('CREATE UNIQUE INDEX items_label ON items (label)');
  await sequelize.query('CREATE TABLE tags (item_id INTEGER NOT NULL REFERENCES items(id), name TEXT)');
  const Item = sequelize.define('Item', { label: { type: DataTypes.TEXT, allowNull: false } }, { tableName: 'items', timestamps: false });
  const Tag = sequelize.define('Tag', { itemId: { type: DataTypes.INTEGER, field: 'item_id' }, name: DataTypes.TEXT }, { tableName: 'tags', timestamps: false });
  Tag.removeAttribute('id');
  const one = await Item.create({ label: 'one' });
  t.equal(one.get('id'), 1, 'an insert learns its id');
  const many = await Item.bulkCreate([{ label: 'two' }, { label: 'three' }], { returning: true });
  t.same(
    many.map((item) => item.get('id')),
    [2, 3],
    'a bulk insert numbers its rows',
  );
  t.same((await Item.findAll({ where: { id: 2 } })).map((item) => item.get('label')), ['two'], 'bound values find their rows');
  t.same(await sequelize.query('SELECT typeof($1) AS a, typeof($2) AS b', { bind: [5, 'x'], type: QueryTypes.SELECT }), [{ a: 'integer', b: 'text' }], 'whole numbers bound as integers');
  await t.rejects(Item.create({ label: 'one' }), UniqueConstraintError);
  await t.rejects(Tag.create({ itemId: 99, name: 'orphan' }), ForeignKeyConstraintError);
  const [updated] = await Item.update({ label: 'ONE' }, { where: { id: 1 } });
  t.equal(updated, 1, 'an update counts its rows');
  t.equal(await Item.destroy({ where: { label: ['two', 'three'] } }), 2, 'a delete counts its rows');
});
