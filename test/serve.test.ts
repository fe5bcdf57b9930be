/** `jvai serve` as a user runs it: the compiled CLI in a child process. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import t from 'tap';
import { Api, makeUser } from './helpers/api.js';
import { PG_URL, createPgDatabase } from './helpers/server.js';
import { BIN, exited, freePort, serve } from './helpers/serve.js';
import { connectWs, wsUrl } from './helpers/ws.js';

t.test('serve starts, keeps tokens across a restart, stops gracefully', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-serve-'));
  const db = PG_URL ? await createPgDatabase(PG_URL) : null;
  const env: Record<string, string> = db ? { DATABASE_URL: db.url } : {};
  t.teardown(async () => {
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const port = await freePort();
  let child = await serve(dataDir, port, env);
  const api = new Api(`http://127.0.0.1:${port}`);
  t.equal((await api.get('/api/schema/')).status, 200);
  const user = await makeUser(api);
  if (!db) t.ok(fs.existsSync(path.join(dataDir, 'jvai.sqlite3')), 'SQLite lives in the data dir');
  child.kill('SIGTERM');
  t.equal(await exited(child), 0, 'SIGTERM exits cleanly');

  child = await serve(dataDir, port, env);
  t.equal((await user.api.get('/api/users/me/')).status, 200, 'tokens survive a restart');
  child.kill('SIGINT');
  t.equal(await exited(child), 0);
});

t.test('SIGTERM ends serve within the shutdown deadline even when the database hangs', { skip: PG_URL ? false : 'needs PostgreSQL (JVAI_TEST_DATABASE_URL): a lock there is what hangs the shutdown' }, async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-serve-'));
  const db = await createPgDatabase(PG_URL!);
  const locker = new pg.Client({ connectionString: db.url });
  let child: Awaited<ReturnType<typeof serve>> | undefined;
  t.teardown(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await locker.end().catch(() => {});
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const port = await freePort();
  child = await serve(dataDir, port, { DATABASE_URL: db.url, SHUTDOWN_TIMEOUT: '2' });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  const api = new Api(`http://127.0.0.1:${port}`);
  const user = await makeUser(api);
  const socket = await connectWs(wsUrl(api.base, '/ws/status/'), user.access);
  socket.on('error', () => {});
  // Online once the socket's presence write is done; closing it at shutdown writes "offline".
  while (!(await user.api.get('/api/users/me/')).body.is_online) await new Promise((r) => setTimeout(r, 50));
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');

  const started = Date.now();
  child.kill('SIGTERM');
  // Bounded wait: without the deadline the process would hang on the lock indefinitely.
  const code = await Promise.race([exited(child), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000).unref())]);
  const elapsed = Date.now() - started;
  t.equal(code, 1, 'exits with a failure code');
  t.ok(elapsed >= 1900 && elapsed < 10_000, `after the 2 s deadline (${elapsed} ms)`);
  t.match(output, /shutdown did not finish in time; exiting/, 'and says why');
});

t.test('serve refuses bad configuration with a readable list', async (t) => {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', 'x'], { env: { ...process.env, JWT_SECRET: 'short' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  t.equal(await exited(child), 2);
  t.match(err, /Invalid configuration/);
  t.match(err, /port/);
  t.match(err, /jwtSecret/);
  t.notMatch(err, /at .*\.js:\d+/, 'no stack trace');
});

t.test('jvai --help lists the commands', async (t) => {
  const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  t.equal(await exited(child), 0);
  t.match(out, /serve/);
  t.match(out, /admin/);
});
