/** `jvai serve` as a user runs it: the compiled CLI in a child process. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import pg from 'pg';
import t from 'tap';
import { Api, makeUser } from './helpers/api.js';
import { PG_URL, createPgDatabase } from './helpers/server.js';
import { BIN, exited, freePort, runJvai, serve } from './helpers/serve.js';
import { connectWs, wsUrl } from './helpers/ws.js';
import { VERSION } from '../src/version.js';

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

t.test('serve starts by saying where it listens and where the data lives', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-banner-'));
  const db = PG_URL ? await createPgDatabase(PG_URL) : null;
  t.teardown(async () => {
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  // A password in the database URL, which the banner must not show.
  const databaseUrl = db && Object.assign(new URL(db.url), { username: 'postgres', password: 'hunter2-secret' }).toString();
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '0.0.0.0', '--port', String(port), '--data-dir', dataDir], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.teardown(() => void child.kill('SIGKILL'));
  const err = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stderr!.on('data', (d) => {
      text += d;
      if (/\n.*\n/.test(text)) resolve(text);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${text}`)));
  });
  const [listening, data] = err.split('\n');
  t.match(listening, new RegExp(`^jvai listening on http://localhost:${port}( http://\\S+:${port})*$`), 'the loopback URL, then every interface address');
  if (databaseUrl) {
    t.equal(data, `database ${databaseUrl.replace('hunter2-secret', '***')}; media and JWT secret in ${dataDir}`);
    t.notMatch(err, 'hunter2-secret');
  } else t.equal(data, `data in ${dataDir}`);
  child.kill('SIGTERM');
  t.equal(await exited(child), 0);
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

t.test('--version / -V print the version', async (t) => {
  for (const flag of ['--version', '-V']) {
    const res = await runJvai([flag], { env: process.env });
    t.equal(res.code, 0);
    t.equal(res.stdout, `${VERSION}\n`);
  }
});

t.test('every wrong invocation: one line saying what is wrong and which --help to read, exit 2', async (t) => {
  const cases: [string[], string][] = [
    [[], 'jvai: no command given (see `jvai --help`)'],
    [['bogus'], "jvai: unknown command 'bogus'"],
    [['help', 'bogus'], "jvai: unknown command 'bogus' (see `jvai --help`)"],
    [['admin', 'help', 'bogus'], "jvai: unknown command 'bogus' (see `jvai admin --help`)"],
    [['admin'], 'jvai: `jvai admin` needs a subcommand (see `jvai admin --help`)'],
    [['admin', 'users'], 'jvai: `jvai admin users` needs a subcommand (see `jvai admin users --help`)'],
    [['admin', 'bogus'], "jvai: unknown command 'bogus' (see `jvai admin --help`)"],
    [['admin', 'users', 'create'], "jvai: missing required argument 'username' (see `jvai admin users create --help`)"],
    [['admin', 'users', 'create', 'a', 'a@example.com', '--bogus'], "jvai: unknown option '--bogus' (see `jvai admin users create --help`)"],
    [['admin', 'seed', '--users', 'many'], 'must be a whole number (see `jvai admin seed --help`)'],
    [['serve', 'extra'], "jvai: too many arguments for 'serve'"],
    [['feed', '--bogus'], "jvai: unknown option '--bogus' (see `jvai feed --help`)"],
    [['show'], "jvai: missing required argument 'post-id' (see `jvai show --help`)"],
  ];
  // cwd and data dir in a temporary directory: nothing here may touch a real ./data.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-usage-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, JVAI_DATA_DIR: dir, JVAI_CONFIG_DIR: dir };
  const results = await Promise.all(cases.map(([args]) => runJvai(args, { env, cwd: dir })));
  cases.forEach(([args, expected], i) => {
    const res = results[i];
    t.equal(res.code, 2, `jvai ${args.join(' ')} exits 2`);
    t.match(res.stderr, expected, `jvai ${args.join(' ')}`);
    t.match(res.stderr, /^jvai: [^\n]+\(see `jvai[^`]*--help`\)\n$/, `jvai ${args.join(' ')}: one line`);
    t.equal(res.stdout, '');
  });
});
