/**
 * HTTP bench, run by hand: `npm run bench:http [-- --users N --posts M --duration S --connections C]`.
 *
 * Seeds a fresh temporary SQLite database with demo data, starts a real server, and measures
 * the hot endpoints with autocannon. Each endpoint is compared with a bare Koa handler in the
 * same process that returns a JSON payload of the same size: the "ceiling" of Node + Koa on
 * this machine, so the ratio shows what our stack (auth, database, presenters) costs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import autocannon, { type Result } from 'autocannon';
import { Op } from 'sequelize';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { openDatabase, startServer } from '../src/server.js';
import { seedDemoData, type SeedStage } from '../src/admin/seed.js';
import { DirectMessage, Post, User } from '../src/models/index.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    posts: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '10' },
  },
});
const users = Number(args.users);
const posts = Number(args.posts);
const duration = Number(args.duration);
const connections = Number(args.connections);
for (const [name, value] of Object.entries({ users, posts, duration, connections })) {
  if (!Number.isInteger(value) || value < (name === 'posts' ? 0 : 1)) {
    console.error(`--${name} must be a whole number${name === 'posts' ? '' : ' ≥ 1'}`);
    process.exit(2);
  }
}
if (users < 2) {
  console.error('--users must be at least 2 (the DM endpoints need a conversation)');
  process.exit(2);
}

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
  jvai?: Result;
  ceiling?: Result;
  note?: string;
}

const ms = (started: number) => `${((Date.now() - started) / 1000).toFixed(1)} s`;

/** One autocannon run; the load is generated in a worker thread, not on the server's event loop. */
function measure(url: string, endpoint: Endpoint, headers: Record<string, string>): Promise<Result> {
  return autocannon({ url: url + endpoint.path, method: endpoint.method, headers, body: endpoint.body, connections, duration, workers: 1 });
}

/** A minimal Koa app answering every request with the current payload. */
async function startCeiling(): Promise<{ url: string; setPayload(body: string): void; close(): Promise<void> }> {
  let payload = '{}';
  const koa = new Koa();
  koa.use((ctx) => {
    ctx.type = 'application/json';
    ctx.body = payload;
  });
  const server = http.createServer(koa.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setPayload: (body) => (payload = body),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function printTable(rows: Row[]): void {
  const fmt = (n: number | undefined, digits = 0) => (n === undefined ? '-' : n.toFixed(digits));
  const table = rows.map((r) => {
    const ratio = r.jvai && r.ceiling ? `${((100 * r.jvai.requests.average) / r.ceiling.requests.average).toFixed(1)}%` : '-';
    const failures = r.jvai ? r.jvai.non2xx + r.jvai.errors + r.jvai.timeouts : 0;
    const note = r.note ?? (failures ? `${failures} failed requests` : '');
    return [r.endpoint, fmt(r.bytes), fmt(r.jvai?.requests.average, 1), fmt(r.jvai?.latency.p50, 1), fmt(r.jvai?.latency.p99, 1), fmt(r.ceiling?.requests.average, 0), ratio, note];
  });
  const headers = ['endpoint', 'bytes', 'req/s', 'p50 ms', 'p99 ms', 'ceiling req/s', 'ratio', 'note'];
  const widths = headers.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  console.log(`\n${line(headers)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of table) console.log(line(row));
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-bench-'));
  const config = loadConfig({
    env: {},
    file: false,
    // The auth rate limit would turn the login bench into a 429 bench.
    flags: { host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', authRateLimit: 1_000_000_000, sendRateLimit: 10_000, sendBurst: 100_000, jwtSecret: crypto.randomBytes(32).toString('hex') },
  });
  const logger = createLogger(config);
  try {
    const wanted = { users, posts, likes: posts * 3, comments: posts, follows: users * 10, messages: users * 2 };
    console.log(`Seeding ${dataDir}: ${Object.entries(wanted).map(([k, v]) => `${v} ${k}`).join(', ')}`);
    const seeding = Date.now();
    const sequelize = await openDatabase(config, logger);
    const seeded = await seedDemoData(sequelize, wanted, {
      onProgress: (stage: SeedStage, done, total) => done === total && console.log(`  ${stage.padEnd(8)} ${String(total).padStart(7)}  (${ms(seeding)})`),
    });
    await sequelize.close();

    const server = await startServer(config, logger);
    const ceiling = await startCeiling();
    try {
      const username = seeded.firstUsername!;
      const me = (await User.findOne({ where: { usernameLower: username } }))!;
      // Someone demo1 has a conversation with, and a post near the top of the timeline.
      const dm = await DirectMessage.findOne({ where: { [Op.or]: [{ senderId: me.id }, { receiverId: me.id }] }, order: [['id', 'DESC']] });
      const partner = dm ? (dm.senderId === me.id ? dm.receiverId : dm.senderId) : me.id + 1;
      const postId = (await Post.max<number, Post>('id')) ?? 1;
      const loginBody = JSON.stringify({ username, password: seeded.password });
      const session = await fetch(`${server.url}/api/users/login/`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: loginBody });
      if (session.status !== 200) throw new Error(`login as ${username} failed: ${session.status} ${await session.text()}`);
      const { access } = (await session.json()) as { access: string };

      const endpoints: Endpoint[] = [
        { name: 'POST /api/users/login/', method: 'POST', path: '/api/users/login/', body: loginBody, auth: false },
        { name: 'GET /api/posts/feed/', method: 'GET', path: '/api/posts/feed/', auth: true },
        { name: 'GET /api/posts/', method: 'GET', path: '/api/posts/', auth: true },
        { name: 'GET /api/posts/{id}/', method: 'GET', path: `/api/posts/${postId}/`, auth: true },
        { name: 'GET /api/messages/conversations/', method: 'GET', path: '/api/messages/conversations/', auth: true },
        { name: 'GET /api/messages/with_user/', method: 'GET', path: `/api/messages/with_user/?user_id=${partner}`, auth: true },
      ];
      console.log(`\nServer ${server.url} as ${username}; ${duration} s × ${connections} connections per run, jvai then ceiling.`);
      const rows: Row[] = [];
      for (const endpoint of endpoints) {
        const headers: Record<string, string> = { ...(endpoint.auth ? { Authorization: `Bearer ${access}` } : {}), ...(endpoint.body ? { 'Content-Type': 'application/json' } : {}) };
        // A probe first: an endpoint that is not there (yet) is reported, not benched.
        const probe = await fetch(server.url + endpoint.path, { method: endpoint.method, headers, body: endpoint.body });
        const payload = await probe.text();
        if (probe.status !== 200) {
          rows.push({ endpoint: endpoint.name, note: `not measured: HTTP ${probe.status}` });
          console.log(`  ${endpoint.name}: HTTP ${probe.status}, skipped`);
          continue;
        }
        const jvai = await measure(server.url, endpoint, headers);
        ceiling.setPayload(payload);
        const bare = await measure(ceiling.url, endpoint, headers);
        rows.push({ endpoint: endpoint.name, bytes: Buffer.byteLength(payload), jvai, ceiling: bare });
        console.log(`  ${endpoint.name}: ${jvai.requests.average.toFixed(1)} req/s (ceiling ${bare.requests.average.toFixed(0)})`);
      }
      printTable(rows);
    } finally {
      await ceiling.close();
      await server.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
