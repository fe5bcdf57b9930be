/**
 * WebSocket bench, run by hand after `npm run build`: `npm run bench:ws [-- --idle 10000 --members 1000 --messages 1000 --users 10000 --posts 100000 --pg URL]`.
 *
 * Measures, on loopback, against a jvai server (its own process, on a temporary SQLite database,
 * or a throwaway PostgreSQL database created next to --pg URL, seeded as bench:http seeds it;
 * `--users 0` for an empty one) and against a bare `ws` relay server (the ceiling of Node + ws on this machine):
 *   - DM delivery latency (p50/p99): one message at a time from one socket to another;
 *   - DM throughput: messages delivered per second with a window of messages in flight, and the
 *     server's CPU time per message (steadier than throughput when the machine is noisy);
 *   - the same 50 senders at a fixed 2,000 DMs a second in all: delivery p50/p99 at that load;
 *   - memory per idle connection, from the server's heap and RSS with N idle sockets open;
 *   - group fan-out: time from one send until all members' sockets received it.
 * jvai stores every message before delivering it; the bare relay only forwards bytes, so the
 * ratio is what the whole stack (auth, validation, database, event bus, presenters) costs.
 * The per-socket frame rate limit is lifted for the run (it exists to stop abuse, not load).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { fork, execSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createPgDatabase } from '../test/helpers/server.js';
import { seedBenchDatabase } from './seed.js';

interface Setup {
  port: number;
  /** Paths and tokens for each scenario (the bare relay ignores tokens). */
  dm: { from: Target; to: Target };
  /** Independent conversations, one sender and one receiver each. */
  pairs: { from: Target; to: Target }[];
  group: Target[];
  idle: Target[];
}
interface Target {
  path: string;
  token?: string;
}
type Memory = { heapUsed: number; rss: number };
type ToChild = { type: 'memory' } | { type: 'cpu' } | { type: 'stop' };
type FromChild = { type: 'ready'; setup: Setup } | { type: 'memory'; memory: Memory } | { type: 'cpu'; micros: number };

const SELF = fileURLToPath(import.meta.url);
/** Each DM phase stops after this long: a slow disk must not make the run unbounded. */
const PHASE_MS = 15_000;

// ---------------------------------------------------------------- server side (child process)

/** Conversations in the many-senders phases. */
const PAIRS = 50;
/**
 * The paced phase's offered load, DMs a second over all PAIRS senders: the rate the issue asks
 * DMs to be delivered at within 20 ms (p99), where the other phase measures what saturates.
 */
const PACED_RATE = 2000;

/**
 * The server as `jvai serve` runs it, compiled by tsc. Run from source, tsx's output names every
 * function it creates with a call that puts the function's properties in dictionary mode: ~1.7 KB
 * more heap per idle socket, and CPU in every closure made per message.
 */
const DIST = new URL('../dist/src/', import.meta.url);
const compiled = async <T>(file: string): Promise<T> => (await import(new URL(file, DIST).href)) as T;

async function serveJvai(members: number, idle: number): Promise<{ setup: Setup; stop: () => Promise<void> }> {
  const { loadConfig } = await compiled<typeof import('../src/config.js')>('config.js');
  const { createLogger } = await compiled<typeof import('../src/logger.js')>('logger.js');
  const { startServer } = await compiled<typeof import('../src/server.js')>('server.js');
  const { Group, GroupMember, User } = await compiled<typeof import('../src/models/index.js')>('models/index.js');
  // The driver's seeded database, or a fresh one of our own.
  const dataDir = process.env.JVAI_BENCH_DATA_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-bench-ws-'));
  const databaseUrl = process.env.JVAI_BENCH_DATABASE_URL || undefined;
  const config = loadConfig({ env: {}, file: false, flags: { host: '127.0.0.1', port: 0, dataDir, databaseUrl, logLevel: 'silent', authRateLimit: 1_000_000, sendRateLimit: 10_000, sendBurst: 100_000 } });
  const unlimited = { burst: 1e9, perSecond: 1e9, maxStrikes: 1e9, heartbeatMs: 600_000 };
  const server = await startServer(config, createLogger(config), unlimited);
  // On a seeded database the conversations are between its users, spread over their ids: their
  // rows land among everyone's in every index, as on a server in use.
  const existing = await User.findAll({ order: [['id', 'ASC']] });
  // Rows straight into the database: registering through the API would spend minutes hashing passwords.
  const users = await User.bulkCreate(
    Array.from({ length: Math.max(members + 1, 2 * PAIRS) }, (_, i) => ({ username: `bench${i}`, usernameLower: `bench${i}`, email: `bench${i}@example.com`, passwordHash: 'x' })),
    { returning: true },
  );
  const group = await Group.create({ name: 'bench', creatorId: users[0].id });
  await GroupMember.bulkCreate(users.slice(0, members).map((u, i) => ({ groupId: group.id, userId: u.id, role: i === 0 ? 'admin' : 'member' })));
  const tokens: string[] = [];
  for (const user of users) tokens.push((await server.app.services.tokens.issue(user)).access);
  const [a, b] = [users[0], users[members]];
  const talkers = existing.length >= 2 * PAIRS ? Array.from({ length: 2 * PAIRS }, (_, i) => existing[Math.floor((i * existing.length) / (2 * PAIRS))]) : users.slice(0, 2 * PAIRS);
  const talkerTokens = await Promise.all(talkers.map(async (u) => (await server.app.services.tokens.issue(u)).access));
  const setup: Setup = {
    port: Number(new URL(server.url).port),
    dm: { from: { path: `/ws/messages/${b.id}/`, token: tokens[0] }, to: { path: `/ws/messages/${a.id}/`, token: tokens[members] } },
    pairs: Array.from({ length: PAIRS }, (_, i) => {
      const [s, r] = [2 * i, 2 * i + 1];
      return { from: { path: `/ws/messages/${talkers[r].id}/`, token: talkerTokens[s] }, to: { path: `/ws/messages/${talkers[s].id}/`, token: talkerTokens[r] } };
    }),
    group: users.slice(0, members).map((_, i) => ({ path: `/ws/group/${group.id}/`, token: tokens[i] })),
    // All from the one user outside the group: a member's status sockets would also receive the
    // presence of the 1,000 others, which measures fan-out rather than an idle connection.
    idle: Array.from({ length: idle }, () => ({ path: '/ws/status/', token: tokens[members] })),
  };
  return {
    setup,
    stop: async () => {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The ceiling: sockets join the room named by their path; every frame goes to the whole room, sender included (as jvai does). */
async function serveBare(members: number, idle: number): Promise<{ setup: Setup; stop: () => Promise<void> }> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  const rooms = new Map<string, Set<WebSocket>>();
  wss.on('connection', (ws, req) => {
    const room = req.url ?? '/';
    let set = rooms.get(room);
    if (!set) rooms.set(room, (set = new Set()));
    set.add(ws);
    ws.on('message', (data, isBinary) => {
      for (const peer of set) peer.send(data, { binary: isBinary });
    });
    ws.on('close', () => set.delete(ws));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const setup: Setup = {
    port: (server.address() as AddressInfo).port,
    dm: { from: { path: '/dm' }, to: { path: '/dm' } },
    pairs: Array.from({ length: PAIRS }, (_, i) => ({ from: { path: `/pair-${i}` }, to: { path: `/pair-${i}` } })),
    group: Array.from({ length: members }, () => ({ path: '/group' })),
    idle: Array.from({ length: idle }, () => ({ path: '/idle' })),
  };
  return {
    setup,
    stop: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function childMain(kind: string, members: number, idle: number): Promise<void> {
  const { setup, stop } = await (kind === 'jvai' ? serveJvai : serveBare)(members, idle);
  const send = (msg: FromChild) => process.send!(msg);
  process.on('message', async (msg: ToChild) => {
    if (msg.type === 'memory') {
      // Twice: the first pass may only schedule finalizers.
      global.gc?.();
      global.gc?.();
      const { heapUsed, rss } = process.memoryUsage();
      send({ type: 'memory', memory: { heapUsed, rss } });
    } else if (msg.type === 'cpu') {
      // All of the process's threads (libuv's pool too), user and system.
      const { user, system } = process.cpuUsage();
      send({ type: 'cpu', micros: user + system });
    } else {
      await stop();
      process.exit(0);
    }
  });
  send({ type: 'ready', setup });
}

// ---------------------------------------------------------------- client side (the driver)

interface Server {
  child: ChildProcess;
  setup: Setup;
  ask(msg: ToChild): Promise<FromChild>;
}

/** Where the jvai server's data is: a PostgreSQL URL, or a seeded SQLite data directory (neither: a fresh one). */
interface Database {
  url?: string;
  dataDir?: string;
}

async function startChild(kind: 'jvai' | 'bare', members: number, idle: number, database: Database): Promise<Server> {
  // libuv's pool as large as `jvai serve` makes it (bin/jvai.js): the server is measured as it runs.
  const env = { UV_THREADPOOL_SIZE: '8', ...process.env, JVAI_BENCH_DATABASE_URL: database.url ?? '', JVAI_BENCH_DATA_DIR: database.dataDir ?? '' };
  // JVAI_BENCH_PROFILE=DIR: a CPU profile of the jvai server process, for `node --cpu-prof` analysis.
  const profile = kind === 'jvai' && process.env.JVAI_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.JVAI_BENCH_PROFILE}`] : [];
  const child = fork(SELF, ['serve', kind, String(members), String(idle)], { execArgv: ['--import', 'tsx', '--expose-gc', ...profile], stdio: 'inherit', env });
  const next = () =>
    new Promise<FromChild>((resolve, reject) => {
      child.once('message', (msg) => resolve(msg as FromChild));
      child.once('exit', (code) => reject(new Error(`${kind} server exited (${code})`)));
    });
  const ready = await next();
  if (ready.type !== 'ready') throw new Error('unexpected message from the server process');
  return {
    child,
    setup: ready.setup,
    ask: (msg) => {
      const answer = next();
      child.send(msg);
      return answer;
    },
  };
}

function connect(port: number, target: Target): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${target.path}`, target.token ? { headers: { Authorization: `Bearer ${target.token}` } } : {});
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed with ${code} during the handshake`)));
  });
}

/** Opens many sockets, `concurrency` handshakes at a time. */
async function connectAll(port: number, targets: Target[], concurrency = 200): Promise<WebSocket[]> {
  const sockets: WebSocket[] = new Array(targets.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, targets.length) }, async () => {
      while (next < targets.length) {
        const i = next++;
        sockets[i] = await connect(port, targets[i]);
      }
    }),
  );
  return sockets;
}

/** Resolves when `ws` receives a message frame whose content is `content`. */
function receive(ws: WebSocket, content: string): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      if ((JSON.parse(String(data)) as { content?: string }).content !== content) return;
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
  });
}

const frame = (content: string) => JSON.stringify({ type: 'message', content });
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

interface Figures {
  dmP50: number;
  dmP99: number;
  dmPerSecond: number;
  manyPerSecond: number;
  manyP50: number;
  manyP99: number;
  manyP999: number;
  /** The server process's CPU time per DM delivered in the many-senders phase (µs). */
  manyCpuMicros: number;
  pacedPerSecond: number;
  pacedP50: number;
  pacedP99: number;
  pacedP999: number;
  idleHeapKb: number;
  idleRssKb: number;
  fanoutP50: number;
  fanoutMax: number;
}

interface Options {
  messages: number;
  window: number;
  idle: number;
  members: number;
  rounds: number;
}

/**
 * PAIRS senders at PACED_RATE DMs a second in all, each on a fixed schedule whether or not its
 * last DM has arrived, for PHASE_MS. A DM's delay counts from when it was due, not from when it
 * was sent: a stall delays every DM due behind it, as it would delay people's messages.
 */
async function pacedPhase(pairs: WebSocket[][]): Promise<{ delays: number[]; perSecond: number }> {
  const interval = (PAIRS * 1000) / PACED_RATE;
  const due = new Map<string, number>();
  const delays: number[] = [];
  let drained: () => void = () => undefined;
  const onMessage = (data: WebSocket.RawData) => {
    const { content } = JSON.parse(String(data)) as { content?: string };
    const at = content === undefined ? undefined : due.get(content);
    if (at === undefined) return;
    due.delete(content as string);
    delays.push(performance.now() - at);
    if (!due.size) drained();
  };
  for (const [, receiver] of pairs) receiver.on('message', onMessage);
  const start = performance.now() + 50;
  await Promise.all(
    pairs.map(async ([sender], p) => {
      for (let i = 0; ; i++) {
        const at = start + (p / PAIRS + i) * interval;
        if (at - start >= PHASE_MS) return;
        const wait = at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, Math.ceil(wait)));
        const content = `paced-${p}-${i}`;
        due.set(content, at);
        sender.send(frame(content));
      }
    }),
  );
  if (due.size) await Promise.race([new Promise<void>((r) => (drained = r)), new Promise((r) => setTimeout(r, PHASE_MS))]);
  const perSecond = delays.length / ((performance.now() - start) / 1000);
  for (const [, receiver] of pairs) receiver.off('message', onMessage);
  return { delays: delays.sort((a, b) => a - b), perSecond };
}

async function measure(kind: 'jvai' | 'bare', opts: Options, database: Database): Promise<Figures> {
  const server = await startChild(kind, opts.members, opts.idle, database);
  const { port } = server.setup;
  try {
    // Idle memory, first: the server's heap and RSS before and after opening the idle sockets. After
    // the other phases the heap had grown and shrunk, and RSS (pages already resident) hardly moved.
    await new Promise((r) => setTimeout(r, 500));
    const before = (await server.ask({ type: 'memory' })) as Extract<FromChild, { type: 'memory' }>;
    const idle = await connectAll(port, server.setup.idle);
    await new Promise((r) => setTimeout(r, 1000)); // presence writes and the like settle
    const after = (await server.ask({ type: 'memory' })) as Extract<FromChild, { type: 'memory' }>;
    for (const ws of idle) ws.terminate();
    await new Promise((r) => setTimeout(r, 1000)); // their departures settle before the DMs

    // DM latency: one at a time.
    const [from, to] = await Promise.all([connect(port, server.setup.dm.from), connect(port, server.setup.dm.to)]);
    const latencies: number[] = [];
    const until = performance.now() + PHASE_MS;
    for (let i = 0; i < opts.messages && performance.now() < until; i++) {
      const content = `lat-${i}`;
      const got = receive(to, content);
      const started = process.hrtime.bigint();
      from.send(frame(content));
      await got;
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    latencies.sort((a, b) => a - b);

    // DM throughput: a window of messages in flight, counted as they arrive, for at most PHASE_MS.
    const total = opts.messages * 3;
    let delivered = 0;
    let sent = 0;
    let elapsed = 0;
    const started = performance.now();
    await new Promise<void>((resolve) => {
      to.on('message', () => {
        delivered++;
        if (!elapsed && (delivered === total || performance.now() - started > PHASE_MS)) elapsed = performance.now() - started;
        if (delivered === sent && elapsed) resolve(); // drained: nothing left to disturb the next phase
        else if (sent < total && !elapsed) from.send(frame(`tp-${sent++}`));
      });
      for (; sent < Math.min(opts.window, total); sent++) from.send(frame(`tp-${sent}`));
    });
    const dmPerSecond = delivered / (elapsed / 1000);
    from.close();
    to.close();

    // Many senders: each of PAIRS senders sends its next DM as soon as its previous one was
    // delivered to its receiver, for at most PHASE_MS (or `messages` each).
    const pairs = await Promise.all(server.setup.pairs.map(async (p) => Promise.all([connect(port, p.from), connect(port, p.to)])));
    const delays: number[] = [];
    const cpuBefore = (await server.ask({ type: 'cpu' })) as Extract<FromChild, { type: 'cpu' }>;
    const manyStart = performance.now();
    await Promise.all(
      pairs.map(async ([sender, receiver], p) => {
        for (let i = 0; i < opts.messages && performance.now() - manyStart < PHASE_MS; i++) {
          const content = `many-${p}-${i}`;
          const got = receive(receiver, content);
          const t0 = performance.now();
          sender.send(frame(content));
          await got;
          delays.push(performance.now() - t0);
        }
      }),
    );
    const manyPerSecond = delays.length / ((performance.now() - manyStart) / 1000);
    const cpuAfter = (await server.ask({ type: 'cpu' })) as Extract<FromChild, { type: 'cpu' }>;
    delays.sort((a, b) => a - b);
    await new Promise((r) => setTimeout(r, 1000)); // the last phase's checkpoints settle
    const paced = await pacedPhase(pairs);
    for (const ws of pairs.flat()) ws.close();

    // Group fan-out: one send, until every member's socket has it.
    const members = await connectAll(port, server.setup.group);
    const fanouts: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      const content = `fan-${round}`;
      const all = Promise.all(members.map((ws) => receive(ws, content)));
      const t0 = performance.now();
      members[0].send(frame(content));
      await all;
      fanouts.push(performance.now() - t0);
    }
    fanouts.sort((a, b) => a - b);
    for (const ws of members) ws.terminate();

    return {
      dmP50: percentile(latencies, 50),
      dmP99: percentile(latencies, 99),
      dmPerSecond,
      manyPerSecond,
      manyP50: percentile(delays, 50),
      manyP99: percentile(delays, 99),
      manyP999: percentile(delays, 99.9),
      manyCpuMicros: (cpuAfter.micros - cpuBefore.micros) / delays.length,
      pacedPerSecond: paced.perSecond,
      pacedP50: percentile(paced.delays, 50),
      pacedP99: percentile(paced.delays, 99),
      pacedP999: percentile(paced.delays, 99.9),
      idleHeapKb: (after.memory.heapUsed - before.memory.heapUsed) / 1024 / opts.idle,
      idleRssKb: (after.memory.rss - before.memory.rss) / 1024 / opts.idle,
      fanoutP50: percentile(fanouts, 50),
      fanoutMax: fanouts[fanouts.length - 1],
    };
  } finally {
    server.child.send({ type: 'stop' } satisfies ToChild);
    await new Promise((r) => server.child.once('exit', r));
  }
}

/** The soft limit on open files, which caps the idle sockets (each process holds one fd per socket). */
function fileLimit(): number {
  try {
    const out = execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Infinity : Number(out);
  } catch {
    return 1024;
  }
}

async function driverMain(): Promise<void> {
  const { values } = parseArgs({
    options: {
      idle: { type: 'string', default: '10000' },
      members: { type: 'string', default: '1000' },
      messages: { type: 'string', default: '1000' },
      window: { type: 'string', default: '64' },
      rounds: { type: 'string', default: '20' },
      users: { type: 'string', default: '10000' },
      posts: { type: 'string', default: '100000' },
      pg: { type: 'string' },
    },
  });
  const { pg, users, posts, ...counts } = values;
  const opts = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number(v)])) as unknown as Options;
  const sizes = { users: Number(users), posts: Number(posts) };
  for (const [name, value] of Object.entries({ ...opts, ...sizes })) {
    if (!Number.isInteger(value) || value < (name in sizes ? 0 : 1)) {
      console.error(`--${name} must be a whole number${name in sizes ? '' : ' ≥ 1'}`);
      process.exit(2);
    }
  }
  if (!fs.existsSync(new URL('server.js', DIST))) {
    console.error('bench:ws runs the compiled server: `npm run build` first');
    process.exit(2);
  }
  const limit = fileLimit();
  const needed = Math.max(opts.idle, opts.members) + 256;
  if (needed > limit) {
    const capped = Math.max(1, limit - 256);
    console.warn(`! open-file limit is ${limit}: measuring ${capped} idle connections instead of ${opts.idle} (raise it with \`ulimit -n\`)`);
    opts.idle = Math.min(opts.idle, capped);
    opts.members = Math.min(opts.members, capped);
  }
  console.log(`WebSocket bench on ${os.cpus().length} CPU(s), Node ${process.version}: ${opts.messages} DMs, ${opts.idle} idle sockets, ${opts.members} group members\n`);

  const db = pg ? await createPgDatabase(pg) : undefined;
  const database: Database = { url: db?.url };
  console.log(`jvai on ${db ? 'PostgreSQL (throwaway database)' : 'SQLite (temporary file)'}${sizes.users ? '' : ', fresh (--users 0)'}`);
  const results: Record<'jvai' | 'bare', Figures> = {} as never;
  try {
    if (sizes.users) {
      database.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-bench-ws-'));
      await seedBenchDatabase(database.dataDir, db?.url, sizes, async () => undefined);
    }
    for (const kind of ['bare', 'jvai'] as const) {
      const t0 = performance.now();
      results[kind] = await measure(kind, opts, database);
      console.log(`  ${kind} measured in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    await db?.drop();
    if (database.dataDir) fs.rmSync(database.dataDir, { recursive: true, force: true });
  }
  const rows: [string, keyof Figures, number][] = [
    ['DM latency p50 (ms)', 'dmP50', 2],
    ['DM latency p99 (ms)', 'dmP99', 2],
    ['DM throughput, one socket, 64 in flight (msg/s)', 'dmPerSecond', 0],
    [`DM throughput, ${PAIRS} senders (msg/s)`, 'manyPerSecond', 0],
    [`DM delivery p50, ${PAIRS} senders (ms)`, 'manyP50', 2],
    [`DM delivery p99, ${PAIRS} senders (ms)`, 'manyP99', 2],
    [`DM delivery p99.9, ${PAIRS} senders (ms)`, 'manyP999', 2],
    [`server CPU per DM, ${PAIRS} senders (µs)`, 'manyCpuMicros', 0],
    [`DM throughput, ${PAIRS} senders at ${PACED_RATE}/s (msg/s)`, 'pacedPerSecond', 0],
    [`DM delivery p50, ${PAIRS} senders at ${PACED_RATE}/s (ms)`, 'pacedP50', 2],
    [`DM delivery p99, ${PAIRS} senders at ${PACED_RATE}/s (ms)`, 'pacedP99', 2],
    [`DM delivery p99.9, ${PAIRS} senders at ${PACED_RATE}/s (ms)`, 'pacedP999', 2],
    [`memory per idle connection, heap (KB)`, 'idleHeapKb', 1],
    [`memory per idle connection, RSS (KB)`, 'idleRssKb', 1],
    [`fan-out to ${opts.members} members p50 (ms)`, 'fanoutP50', 1],
    [`fan-out to ${opts.members} members max (ms)`, 'fanoutMax', 1],
  ];
  const table = rows.map(([label, key, digits]) => {
    const jvai = results.jvai[key];
    const bare = results.bare[key];
    return { metric: label, jvai: jvai.toFixed(digits), 'bare ws': bare.toFixed(digits), 'jvai / bare': bare ? (jvai / bare).toPrecision(3) : 'n/a' };
  });
  console.log('');
  console.table(table);
  console.log('Throughput: higher is better (a ratio below 1 is the cost); the other rows: lower is better.');
}

if (process.argv[2] === 'serve') await childMain(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
else await driverMain();
