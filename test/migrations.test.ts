/**
 * Migrations: several processes starting at once on a new PostgreSQL database take turns
 * (without the lock they raced: `relation "users_is_online" already exists`).
 */
import t from 'tap';
import { closeDatabase, connectDatabase } from '../src/db/connection.js';
import { migrate } from '../src/db/migrator.js';
import { createPgDatabase, pgAvailable } from './helpers/server.js';

const PG_BASE = process.env.JVAI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
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
