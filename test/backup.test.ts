/**
 * `jvai admin backup` / `restore` as an operator runs them (the compiled CLI), against a
 * server that keeps serving and writing: the restored data dir serves the same posts,
 * images and logins on a new server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createLogger } from '../src/logger.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { form, pngBytes } from './helpers/images.js';
import { PG_URL, createPgDatabase } from './helpers/server.js';
import { runJvai, type CliRun } from './helpers/serve.js';

t.setTimeout(300_000);

function tempDir(t: Test, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `jvai-${name}-`));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `jvai admin …` on a data dir (and database), from a neutral cwd. */
function admin(dataDir: string, args: string[], databaseUrl?: string): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, JVAI_DATA_DIR: dataDir };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'JVAI_CONFIG', 'JWT_SECRET', 'NODE_OPTIONS']) delete env[name];
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  return runJvai(['admin', ...args], { env, cwd: os.tmpdir() });
}

/** A server on a data dir with no JWT secret configured: it uses (or generates) the data dir's own. */
async function serverOn(t: Test, dataDir: string, databaseUrl?: string): Promise<RunningServer> {
  const config = loadConfig({ env: {}, file: false, flags: { host: '127.0.0.1', port: 0, dataDir, databaseUrl, logLevel: 'silent', authRateLimit: 10_000, sendRateLimit: 10_000 } });
  const server = await startServer(config, createLogger(config));
  t.teardown(() => server.close());
  return server;
}

async function postImage(user: TestUser, content: string): Promise<{ id: number; image: string }> {
  const res = await user.api.post('/api/posts/', form({ content }, { field: 'image', bytes: await pngBytes(8 + Math.floor(Math.random() * 8)), name: 'p.png', type: 'image/png' }));
  if (res.status !== 201) throw new Error(`post failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const bytes = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
};

/** A media URL of one server, on another (same path). */
const on = (server: RunningServer, url: string) => server.url + new URL(url).pathname;

t.test('SQLite: a backup taken while the server writes restores into a fresh data dir', { skip: PG_URL ? 'SQLite only (the PostgreSQL case is below)' : false }, async (t) => {
  const dataDir = tempDir(t, 'backup-src');
  const out = tempDir(t, 'backup-out');
  const source = await serverOn(t, dataDir);
  const api = new Api(source.url);
  const alice = await makeUser(api);
  const first = await postImage(alice, 'before the backup');

  // Posts keep arriving (with images) while both backups run.
  let writing = true;
  const written: number[] = [];
  const writer = (async () => {
    while (writing) written.push((await postImage(alice, `during the backup ${written.length}`)).id);
  })();
  const archive = path.join(out, 'jvai.tar');
  const dir = path.join(out, 'jvai-dir');
  const [tarRun, dirRun] = [await admin(dataDir, ['backup', archive]), await admin(dataDir, ['backup', dir])];
  writing = false;
  await writer;
  t.equal(tarRun.code, 0, tarRun.stderr);
  t.match(tarRun.stdout, /^Backed up the database, \d+ media files, the JWT secret to .*jvai\.tar\.\n$/);
  t.equal(dirRun.code, 0, dirRun.stderr);
  t.equal(fs.statSync(archive).mode & 0o777, 0o600, 'the archive holds the secret: private');
  t.ok(written.length > 0, 'the server wrote while the backups ran');

  const again = await admin(dataDir, ['backup', archive]);
  t.equal(again.code, 1);
  t.equal(again.stderr, `jvai: ${archive} already exists; refusing to overwrite it\n`);

  const fresh = path.join(tempDir(t, 'restore'), 'data');
  const restored = await admin(fresh, ['restore', archive]);
  t.equal(restored.code, 0, restored.stderr);
  t.match(restored.stdout, `into ${fresh}.`);
  // One database per process: the source server closes before the restored one opens.
  const original = await bytes(first.image);
  await source.close();
  const target = await serverOn(t, fresh);
  const copy = new Api(target.url);

  t.equal((await copy.as(alice).get('/api/users/me/')).status, 200, 'a token issued before the backup still works: the secret came back');
  const login = await copy.post('/api/users/login/', { username: alice.username, password: alice.password });
  t.equal(login.status, 200, 'the password logs in');

  const shown = await copy.as(login.body.access).get(`/api/posts/${first.id}/`);
  t.equal(shown.status, 200);
  t.match(shown.body, { id: first.id, content: 'before the backup', author_username: alice.username });
  const back = await bytes(on(target, first.image));
  t.equal(back.status, 200);
  t.ok(back.body.equals(original.body), 'the image has the same bytes');

  // Consistency: every post the snapshot holds has its image, and those posts are a prefix of what was written.
  const posts = (await copy.as(login.body.access).get('/api/posts/?limit=200')).body as { id: number; image: string }[];
  const ids = posts.map((p) => p.id).sort((a, b) => a - b);
  t.same(ids, [first.id, ...written].sort((a, b) => a - b).slice(0, ids.length), 'the restored posts are those written up to one moment');
  const images = await Promise.all(posts.map((p) => bytes(on(target, p.image))));
  t.same(images.map((i) => i.status), posts.map(() => 200), 'every restored post has its image');

  const occupied = await admin(fresh, ['restore', dir]);
  t.equal(occupied.code, 1, 'a data dir with data is not overwritten');
  t.match(occupied.stderr, `jvai: ${fresh} is not empty: restoring would replace its database, media and secret. Stop any server running on it, then pass --force`);
  t.equal((await copy.as(alice).get('/api/users/me/')).status, 200, 'still serving what was there');

  await target.close();
  const forced = await admin(fresh, ['restore', dir, '--force']);
  t.equal(forced.code, 0, forced.stderr);
  const again2 = await serverOn(t, fresh);
  t.equal((await new Api(again2.url).as(alice).get('/api/users/me/')).status, 200, 'the directory backup restores too');

  const notBackup = await admin(path.join(out, 'x'), ['restore', out]);
  t.equal(notBackup.code, 1);
  t.match(notBackup.stderr, /is not a jvai backup \(no readable jvai-backup\.json\)/);
});

t.test('PostgreSQL: backup says the database is not in it; restore puts back media and secret', { skip: PG_URL ? false : 'needs JVAI_TEST_DATABASE_URL' }, async (t) => {
  const db = await createPgDatabase(PG_URL!);
  t.teardown(() => db.drop());
  const dataDir = tempDir(t, 'backup-pg');
  const source = await serverOn(t, dataDir, db.url);
  const alice = await makeUser(new Api(source.url));
  const post = await postImage(alice, 'on postgres');

  const archive = path.join(tempDir(t, 'backup-pg-out'), 'jvai.tar.gz');
  const res = await admin(dataDir, ['backup', archive], db.url);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /^Backed up 1 media file, the JWT secret to /);
  t.match(res.stderr, 'jvai: note: the database is PostgreSQL and is NOT in this backup: back it up with\n  pg_dump "$DATABASE_URL" > jvai.sql');

  const sqliteDir = tempDir(t, 'restore-sqlite');
  const refused = await admin(sqliteDir, ['restore', archive]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, 'this backup holds no database (it was taken on PostgreSQL)');

  const fresh = path.join(tempDir(t, 'restore-pg'), 'data');
  const restored = await admin(fresh, ['restore', archive], db.url);
  t.equal(restored.code, 0, restored.stderr);
  t.match(restored.stderr, 'restore it with\n  psql "$DATABASE_URL" < jvai.sql');
  await source.close();
  const target = await serverOn(t, fresh, db.url);
  t.equal((await new Api(target.url).as(alice).get('/api/users/me/')).status, 200, 'the secret came back');
  const [original, back] = [fs.readFileSync(path.join(dataDir, 'media', new URL(post.image).pathname.replace('/media/', ''))), await bytes(on(target, post.image))];
  t.ok(back.body.equals(original), 'the image has the same bytes');
});
