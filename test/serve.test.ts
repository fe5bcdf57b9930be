/** `jvai serve` as a user runs it: the compiled CLI in a child process. */
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import t from 'tap';
import { Api, makeUser } from './helpers/api.js';
import { PG_URL, createPgDatabase } from './helpers/server.js';

const BIN = path.resolve('bin/jvai.js');

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

function serve(dataDir: string, port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
    env: { ...process.env, LOG_LEVEL: 'info', AUTH_RATE_LIMIT: '1000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('jvai listening')) resolve(child);
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

const exited = (child: ChildProcess) => new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

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
