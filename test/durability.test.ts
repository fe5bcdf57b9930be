/**
 * Nothing acknowledged is lost: a burst of DMs over REST and socket.io, `kill -9` of the real
 * `jvai serve` process in the middle of it, a restart on the same data, and every message the
 * server had acknowledged is there. On SQLite (group commit, synchronous=FULL) and, in the
 * suite's PostgreSQL pass, on PostgreSQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import t from 'tap';
import { io } from 'socket.io-client';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { PG_URL, createPgDatabase } from './helpers/server.js';
import { exited, freePort, serve } from './helpers/serve.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/schemas/protocol.js';
import type { Socket } from 'socket.io-client';

/** Acknowledged sends to wait for before pulling the plug (more are in flight by then). */
const ACKED_BEFORE_KILL = 150;
const WRITERS = 8;

/** Every DM between two users, through the API's pages. */
async function conversation(user: TestUser, other: TestUser): Promise<Set<number>> {
  const ids = new Set<number>();
  let url: string | null = `/api/messages/with_user/?user_id=${other.id}&limit=200`;
  while (url) {
    const res = await user.api.get(url);
    if (res.status !== 200) throw new Error(`with_user answered ${res.status}`);
    for (const m of res.body as { id: number }[]) ids.add(m.id);
    const next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '');
    url = next ? new URL(next[1]).pathname + new URL(next[1]).search : null;
  }
  return ids;
}

t.test('acknowledged DMs survive kill -9 mid-burst', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-durable-'));
  const db = PG_URL ? await createPgDatabase(PG_URL) : null;
  const env = { JWT_SECRET: crypto.randomBytes(32).toString('hex'), ...(db ? { DATABASE_URL: db.url } : {}) };
  t.teardown(async () => {
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const port = await freePort();
  let child = await serve(dataDir, port, env);
  t.teardown(() => void child.kill('SIGKILL'));
  const api = new Api(`http://127.0.0.1:${port}`);
  const alice = await makeUser(api);
  const bob = await makeUser(api);

  const acked = new Set<number>();
  let stopping = false;
  let reachedTarget!: () => void;
  const target = new Promise<void>((resolve) => (reachedTarget = resolve));
  const ack = (id: number) => {
    acked.add(id);
    if (acked.size >= ACKED_BEFORE_KILL) reachedTarget();
  };

  // REST writers: each sends until a request fails (the process is gone).
  const rest = Array.from({ length: WRITERS }, async (_, w) => {
    for (let i = 0; !stopping; i++) {
      try {
        const res = await alice.api.post('/api/messages/', { receiver: bob.id, content: `rest ${w}/${i}` });
        if (res.status === 201) ack(res.body.id);
      } catch {
        return;
      }
    }
  });
  // A socket.io writer with several acknowledged sends in flight.
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(api.base, {
    path: '/socket.io',
    auth: { token: alice.access },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  t.teardown(() => void socket.close());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const sio = Array.from({ length: WRITERS }, async (_, w) => {
    for (let i = 0; !stopping && socket.connected; i++) {
      const reply = await new Promise<{ ok: boolean; message?: { id: number } } | null>((resolve) => {
        socket.emit('dm:send', { to: bob.id, content: `sio ${w}/${i}` }, (r: { ok: boolean; message?: { id: number } }) => resolve(r));
        socket.once('disconnect', () => resolve(null));
      });
      if (!reply) return;
      if (reply.ok && reply.message) ack(reply.message.id);
    }
  });

  await target;
  child.kill('SIGKILL');
  await exited(child);
  stopping = true;
  await Promise.all([...rest, ...sio]);
  t.ok(acked.size >= ACKED_BEFORE_KILL, `${acked.size} sends were acknowledged before the kill`);

  child = await serve(dataDir, port, env);
  const stored = await conversation(bob, alice);
  const lost = [...acked].filter((id) => !stored.has(id));
  t.same(lost, [], `every acknowledged message is there after the restart (${stored.size} stored)`);
  child.kill('SIGTERM');
  await exited(child);
});
