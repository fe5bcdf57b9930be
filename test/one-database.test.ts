/**
 * One database per process (src/models/index.ts): the models are bound process-wide, so a second
 * database opened beside the first is refused instead of receiving the first one's writes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { closeDatabase, connectDatabase } from '../src/db/connection.js';
import { User } from '../src/models/index.js';

function dataDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-onedb-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a second database while one is open is refused; after closing the first it opens', async (t) => {
  const [first, second] = [dataDir(t), dataDir(t)];
  const a = await connectDatabase({ dataDir: first });
  t.teardown(() => closeDatabase(a));
  await t.rejects(connectDatabase({ dataDir: second }), /another database is already open in this process/);
  t.equal(User.sequelize, a, 'the models still write into the first');

  await closeDatabase(a);
  const b = await connectDatabase({ dataDir: second });
  t.teardown(() => closeDatabase(b));
  t.equal(User.sequelize, b, 'the models write into the one now open');
});

t.test('several connections to one database may be open together; the models use the newest still open', async (t) => {
  const dir = dataDir(t);
  const a = await connectDatabase({ dataDir: dir });
  t.teardown(() => closeDatabase(a));
  const b = await connectDatabase({ databaseUrl: `sqlite:${path.join(dir, 'jvai.sqlite3')}`, dataDir: '.' });
  t.teardown(() => closeDatabase(b));
  t.equal(User.sequelize, b);
  await closeDatabase(b);
  t.equal(User.sequelize, a, 'back on the first once the newest closed');
});
