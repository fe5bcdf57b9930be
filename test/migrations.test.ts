/**
 * Migrations: several processes starting at once on a new PostgreSQL database take turns
 * (without the lock they raced: `relation "users_is_online" already exists`); one that repairs
 * what earlier versions left.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { QueryTypes } from 'sequelize';
import { closeDatabase, connectDatabase } from '../src/db/connection.js';
import { migrate } from '../src/db/migrator.js';
import { createPgDatabase, pgAvailable } from './helpers/server.js';

const PG_BASE = process.env.JVAI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const SAMPLES_MIGRATION = '20261206130000-planner-statistics-without-samples';
const skip = (await pgAvailable(PG_BASE)) ? false : `*** PostgreSQL at ${PG_BASE} not reachable: concurrent migrations NOT tested`;

t.test('three processes migrating one new PostgreSQL database at once', { skip }, async (t) => {
  const db = await createPgDatabase(PG_BASE);
  t.teardown(() => db.drop());
  // Separate connections and pools, as separate processes would have.
  const connections = await Promise.all([1, 2, 3].map(() => connectDatabase({ databaseUrl: db.url, dataDir: '.' })));
  t.teardown(() => Promise.all(connections.map((c) => closeDatabase(c))));
  const applied = await Promise.all(connections.map((c) => migrate(c)));
  const all = applied.flat();
  t.ok(all.length > 0, 'the migrations were applied');
  t.equal(new Set(all).size, all.length, 'each by exactly one of them');
  t.same(await migrate(connections[0]), [], 'nothing left to do');
});

t.test('SQLite: value samples an earlier ANALYZE left are dropped, the averages kept', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-migrations-'));
  t.teardown(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const sequelize = await connectDatabase({ dataDir });
  t.teardown(() => closeDatabase(sequelize));
  await migrate(sequelize);
  const names = async () => (await sequelize.query<{ name: string }>("SELECT name FROM sqlite_schema WHERE name LIKE 'sqlite_stat%' ORDER BY name", { type: QueryTypes.SELECT })).map((r) => r.name);
  // What an install that ran `admin seed` or `admin recount` before this migration has.
  await sequelize.query("INSERT INTO users (username, username_lower, email, password_hash, created_at, updated_at) VALUES ('a', 'a', 'a@example.com', 'x', '2026-01-01', '2026-01-01')");
  await sequelize.query('ANALYZE');
  t.same(await names(), ['sqlite_stat1', 'sqlite_stat4'], 'ANALYZE made samples');
  await sequelize.query(`DELETE FROM schema_migrations WHERE name = '${SAMPLES_MIGRATION}'`);
  t.same(await migrate(sequelize), [SAMPLES_MIGRATION]);
  t.same(await names(), ['sqlite_stat1'], 'the samples are gone, the averages stay');
});
