/**
 * HTTP bench, run by hand: `npm run bench:http [-- --users N --posts M --duration S --rounds R --connections C --pg URL --only feed]`.
 *
 * Seeds a fresh database (a temporary SQLite file, or a throwaway PostgreSQL database next to
 * --pg URL) with demo data as `jvai admin seed` does, starts the compiled `jvai serve` on it as its
 * own process (timing how long it takes to answer), and measures the hot endpoints with
 * autocannon. Each endpoint is compared with a bare Koa **process** answering every request with
 * the very same bytes, measured in the same run: the ratio is what our stack (auth, database,
 * presenters) costs, and it survives a noisy machine better than absolute figures.
 * Also: `jvai --help` start-up time. Needs `npm run build` first (the server runs from dist/).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import autocannon, { type Result } from 'autocannon';
import { seedBenchDatabase } from './seed.js';

const SELF = fileURLToPath(import.meta.url);
const BIN = path.resolve(path.dirname(SELF), '..', 'bin', 'jvai.js');

// ---------------------------------------------------------------- the bare Koa process

async function bareMain(): Promise<void> {
  const { default: Koa } = await import('koa');
  let payload = '{}';
  const koa = new Koa();
  koa.use((ctx) => {
    ctx.type = 'application/json';
    ctx.body = payload;
  });
  const server = http.createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.on('message', (msg: { payload: string }) => {
    payload = msg.payload;
    process.send!({ ok: true });
  });
  process.send!({ port: (server.address() as AddressInfo).port });
}

// ---------------------------------------------------------------- the driver

interface Endpoint {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** Sent with the demo user's access token. */
  auth: boolean;
}

interface Row {
  endpoint: string;
  bytes?: number;
  /** The median round of each side (by req/s). */
  jvai?: Result;
  ceiling?: Result;
  /** The median of the rounds' jvai / bare Koa ratios. */
  ratio?: number;
  note?: string;
}

/** The middle value (the upper one of an even count). */
function median<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function parseOptions() {
  const { values: args } = parseArgs({
    options: {
      users: { type: 'string', default: '10000' },
      posts: { type: 'string', default: '100000' },
      duration: { type: 'string', default: '3' },
      /** jvai and bare Koa take turns this many times per endpoint: a machine's drift hits both alike. */
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
      pg: { type: 'string' },
      /** Only the endpoints whose name contains this text (e.g. `feed`). */
      only: { type: 'string' },
    },
  });
  const numbers = { users: Number(args.users), posts: Number(args.posts), duration: Number(args.duration), connections: Number(args.connections), rounds: Number(args.rounds) };
  for (const [name, value] of Object.entries(numbers)) {
    if (!Number.isInteger(value) || value < (name === 'posts' ? 0 : 1)) {
      console.error(`--${name} must be a whole number${name === 'posts' ? '' : ' ≥ 1'}`);
      process.exit(2);
    }
  }
  if (numbers.users < 2) {
    console.error('--users must be at least 2 (the DM endpoints need a conversation)');
    process.exit(2);
  }
  return { ...numbers, pg: args.pg, only: args.only };
}

/** `jvai serve` on the seeded data, as its own process; resolves once it answers HTTP, with the time that took. */
async function startJvai(env: NodeJS.ProcessEnv, port: number): Promise<{ child: ChildProcess; readyMs: number }> {
  const started = performance.now();
  // JVAI_BENCH_PROFILE=DIR: a CPU profile of the server process (written when it stops).
  const profile = process.env.JVAI_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.JVAI_BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, BIN, 'serve', '--host', '127.0.0.1', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`jvai serve exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/schema/`);
      if (res.ok) return { child, readyMs: performance.now() - started };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startBare(): Promise<{ child: ChildProcess; url: string; setPayload(body: string): Promise<void> }> {
  const child = fork(SELF, ['bare'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', (m) => resolve(m as { port: number })));
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    setPayload: (payload) =>
      new Promise((resolve) => {
        child.once('message', () => resolve());
        child.send({ payload });
      }),
  };
}

function freePort(): Promise<number> {
  const srv = http.createServer();
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    }),
  );
}

function printTable(rows: Row[]): void {
  const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '-' : n.toFixed(digits));
  const table = rows.map((r) => {
    const ratio = r.ratio === undefined ? '-' : `${(100 * r.ratio).toFixed(1)}%`;
    const failures = r.jvai ? r.jvai.non2xx + r.jvai.errors + r.jvai.timeouts : 0;
    const note = r.note ?? (failures ? `${failures} failed requests` : '');
    return [r.endpoint, fmt(r.bytes), fmt(r.jvai?.requests.average, 1), fmt(r.jvai?.latency.p50, 1), fmt(r.jvai?.latency.p99, 1), fmt(r.ceiling?.requests.average, 0), ratio, note];
  });
  const headers = ['endpoint', 'bytes', 'req/s', 'p50 ms', 'p99 ms', 'bare Koa req/s', 'ratio', 'note'];
  const widths = headers.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log(`\n${line(headers)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of table) console.log(line(row));
}

/** The seeded database, and who to log in as and what to ask for. */
async function seed(dataDir: string, databaseUrl: string | undefined, users: number, posts: number) {
  const { DirectMessage, Post, User } = await import('../src/models/index.js');
  const { Op } = await import('sequelize');
  return seedBenchDatabase(dataDir, databaseUrl, { users, posts }, async (_sequelize, seeded) => {
    const username = seeded.firstUsername!;
    const me = (await User.findOne({ where: { usernameLower: username } }))!;
    // Someone the demo user has a conversation with, and a post near the top of the timeline.
    const dm = await DirectMessage.findOne({ where: { [Op.or]: [{ senderId: me.id }, { receiverId: me.id }] }, order: [['id', 'DESC']] });
    const partner = dm ? (dm.senderId === me.id ? dm.receiverId : dm.senderId) : me.id + 1;
    const postId = (await Post.max<number, InstanceType<typeof Post>>('id')) ?? 1;
    return { username, password: seeded.password, partner, postId };
  });
}

async function driverMain(): Promise<void> {
  const opts = parseOptions();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-bench-'));
  const { createPgDatabase } = await import('../test/helpers/server.js');
  const pg = opts.pg ? await createPgDatabase(opts.pg) : undefined;
  const children: ChildProcess[] = [];
  try {
    console.log(`HTTP bench on ${os.cpus().length} CPU(s), Node ${process.version}, ${pg ? 'PostgreSQL' : 'SQLite'}`);
    const helpStart = performance.now();
    execFileSync(process.execPath, [BIN, '--help'], { stdio: 'ignore' });
    const helpMs = performance.now() - helpStart;

    const target = await seed(dataDir, pg?.url, opts.users, opts.posts);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      JVAI_DATA_DIR: dataDir,
      ...(pg ? { DATABASE_URL: pg.url } : {}),
      JWT_SECRET: crypto.randomBytes(32).toString('hex'),
      LOG_LEVEL: 'silent',
      // The limits exist to stop abuse; this measures throughput.
      AUTH_RATE_LIMIT: '1000000000',
    };
    if (!pg) delete env.DATABASE_URL;
    const port = await freePort();
    const jvai = await startJvai(env, port);
    children.push(jvai.child);
    const bare = await startBare();
    children.push(bare.child);
    const server = `http://127.0.0.1:${port}`;

    const loginBody = JSON.stringify({ username: target.username, password: target.password });
    const session = await fetch(`${server}/api/users/login/`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: loginBody });
    if (session.status !== 200) throw new Error(`login as ${target.username} failed: ${session.status} ${await session.text()}`);
    const { access } = (await session.json()) as { access: string };

    const endpoints: Endpoint[] = [
      { name: 'GET /api/posts/feed/', method: 'GET', path: '/api/posts/feed/', auth: true },
      { name: 'GET /api/posts/', method: 'GET', path: '/api/posts/', auth: true },
      { name: 'GET /api/posts/{id}/', method: 'GET', path: `/api/posts/${target.postId}/`, auth: true },
      { name: 'GET /api/users/me/', method: 'GET', path: '/api/users/me/', auth: true },
      { name: 'GET /api/messages/conversations/', method: 'GET', path: '/api/messages/conversations/', auth: true },
      { name: 'GET /api/messages/with_user/', method: 'GET', path: `/api/messages/with_user/?user_id=${target.partner}`, auth: true },
    ];
    console.log(`\njvai serve answered ${seconds(jvai.readyMs)} after start; \`jvai --help\` took ${seconds(helpMs)}.`);
    console.log(`As ${target.username}; ${opts.duration} s × ${opts.connections} connections per run; jvai and bare Koa take turns, ${opts.rounds} rounds each (medians).`);
    const rows: Row[] = [];
    for (const endpoint of endpoints.filter((e) => !opts.only || e.name.includes(opts.only))) {
      const headers: Record<string, string> = { ...(endpoint.auth ? { Authorization: `Bearer ${access}` } : {}), ...(endpoint.body ? { 'Content-Type': 'application/json' } : {}) };
      const probe = await fetch(server + endpoint.path, { method: endpoint.method, headers, body: endpoint.body });
      const payload = await probe.text();
      if (probe.status !== 200) {
        rows.push({ endpoint: endpoint.name, note: `not measured: HTTP ${probe.status}` });
        continue;
      }
      const run = (url: string, duration = opts.duration) => autocannon({ url: url + endpoint.path, method: endpoint.method, headers, body: endpoint.body, connections: opts.connections, duration, workers: 1 });
      // Not counted: caches filled, code optimised.
      await run(server, 1);
      await bare.setPayload(payload);
      const rounds: { jvai: Result; bare: Result }[] = [];
      for (let i = 0; i < opts.rounds; i++) rounds.push({ jvai: await run(server), bare: await run(bare.url) });
      const perSecond = (r: Result) => r.requests.average;
      const ratio = median(rounds.map((r) => perSecond(r.jvai) / perSecond(r.bare)), (x) => x);
      const measured = median(rounds.map((r) => r.jvai), perSecond);
      const ceiling = median(rounds.map((r) => r.bare), perSecond);
      rows.push({ endpoint: endpoint.name, bytes: Buffer.byteLength(payload), jvai: measured, ceiling, ratio });
      console.log(`  ${endpoint.name}: ${rounds.map((r) => `${perSecond(r.jvai).toFixed(0)} / ${perSecond(r.bare).toFixed(0)}`).join(', ')} req/s (jvai / bare Koa, by round)`);
    }
    printTable(rows);
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'bare') await bareMain();
else
  await driverMain().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
