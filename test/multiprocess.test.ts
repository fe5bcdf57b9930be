/**
 * Scale-out, end to end: several `jvai serve` processes sharing one PostgreSQL database and one
 * Redis. Runs in both passes of `npm test` (it always uses PostgreSQL + Redis); without them it
 * fails in CI and skips loudly elsewhere.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import t from 'tap';
import type { Test } from 'tap';
import type WebSocket from 'ws';
import { Redis } from 'ioredis';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { createPgDatabase, pgAvailable } from './helpers/server.js';
import { REDIS_URL, redisAvailable } from './helpers/redis.js';
import { exited, freePort, runJvai, serve } from './helpers/serve.js';
import { connectIo, nextEvent } from './helpers/socketio.js';
import { buffered, closeCode, connectWs, framesBefore, noFrame, nextFrame, sendJson, wsUrl, type Frame } from './helpers/ws.js';

const PG_BASE = process.env.JVAI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const missing = [!(await pgAvailable(PG_BASE)) && `PostgreSQL at ${PG_BASE}`, !(await redisAvailable()) && `Redis at ${REDIS_URL}`].filter(Boolean);
const skip = missing.length ? `*** ${missing.join(' and ')} not reachable: multi-process realtime NOT tested` : false;

/** Budget of auth attempts per window, shared by every process. */
const AUTH_LIMIT = 30;
/** Presence holds outlive a dead process by this much (production default: 30). */
const PRESENCE_TTL = 3;

/** Headers naming a made-up client address (loopback is a trusted proxy here), with an auth budget of its own. */
const madeUpClient = () => ({ 'X-Forwarded-For': `10.${crypto.randomInt(255)}.${crypto.randomInt(255)}.${crypto.randomInt(255)}` });
const ofType = (type: string) => (f: Frame) => f.type === type;
const messageWithId = (id: number) => (f: Frame) => f.type === 'message' && f.message_id === id;
const presenceOf = (user: TestUser, online: boolean) => (f: Frame) => f.type === 'presence' && f.user_id === user.id && f.is_online === online;
/** A group room presence notice (user-joined / user-left) about the user. */
const about = (user: TestUser, type?: 'user-joined' | 'user-left') => (f: Frame) => (type ? f.type === type : /^user-/.test(f.type)) && f.user_id === user.id;

interface Proc {
  name: string;
  child: ChildProcess;
  url: string;
  api: Api;
}

t.test('several serve processes share PostgreSQL and Redis', { skip }, async (t) => {
  const db = await createPgDatabase(PG_BASE);
  const prefix = `jvai-test-${crypto.randomBytes(6).toString('hex')}`;
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    PRESENCE_TTL: String(PRESENCE_TTL),
    AUTH_RATE_LIMIT: String(AUTH_LIMIT),
    // The tests stand in for a reverse proxy on loopback, naming made-up client addresses.
    TRUST_PROXY: 'loopback',
  };
  const procs: Proc[] = [];
  const dirs: string[] = [];
  t.teardown(async () => {
    for (const { child } of procs) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(procs.map(({ child }) => exited(child)));
    await db.drop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });
  /** Processes start one after another: the first applies the migrations. */
  const start = async (name: string): Promise<Proc> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `jvai-mp-${name}-`));
    dirs.push(dir);
    const port = await freePort();
    const proc = { name, child: await serve(dir, port, env), url: `http://127.0.0.1:${port}`, api: new Api(`http://127.0.0.1:${port}`) };
    procs.push(proc);
    return proc;
  };
  const A = await start('A');
  const B = await start('B');

  /** A user registered on one process, acting on another (tokens are valid everywhere). */
  const userOn = async (proc: Proc, registeredOn: Proc = proc, headers?: Record<string, string>): Promise<TestUser> => {
    const user = await makeUser(registeredOn.api, {}, headers);
    return { ...user, api: proc.api.as(user.access) };
  };
  const open = async (t: Test, proc: Proc, wsPath: string, user: TestUser): Promise<WebSocket> => {
    const socket = await connectWs(wsUrl(proc.url, wsPath), user.access);
    t.teardown(() => socket.close());
    return socket;
  };

  t.test('direct messages cross processes, sent over a socket or REST', async (t) => {
    const alice = await userOn(A);
    const bob = await userOn(B, A);
    const aliceWs = await open(t, A, `/ws/messages/${bob.id}/`, alice);
    const bobWs = await open(t, B, `/ws/messages/${alice.id}/`, bob);

    sendJson(aliceWs, { type: 'message', content: 'from A over ws' });
    const atBob = await nextFrame(bobWs, ofType('message'));
    t.match(atBob, { type: 'message', sender_id: alice.id, receiver_id: bob.id, content: 'from A over ws' }, 'live on B');
    t.match(await nextFrame(aliceWs, ofType('message')), { message_id: atBob.message_id }, "and on the sender's own socket on A");

    const viaB = await bob.api.post('/api/messages/', { receiver: alice.id, content: 'from B over REST' });
    t.equal(viaB.status, 201);
    t.match(await nextFrame(aliceWs, messageWithId(viaB.body.id)), { sender_id: bob.id, content: 'from B over REST' }, 'REST on B reaches A');

    const viaA = await alice.api.post('/api/messages/', { receiver: bob.id, content: 'from A over REST' });
    t.match(await nextFrame(bobWs, messageWithId(viaA.body.id)), { content: 'from A over REST' }, 'REST on A reaches B');
    // A later message through the same path: a second copy of the first would arrive before it.
    sendJson(aliceWs, { type: 'message', content: 'marker' });
    const before = await framesBefore(bobWs, (f) => f.type === 'message' && f.content === 'marker');
    t.notOk(before.some(messageWithId(atBob.message_id)), 'each message arrives once');
  });

  t.test("a user's events made at once on both processes reach their socket in seq order, none missing", async (t) => {
    // Nine sign-ups from loopback would spend the auth budget later tests register from.
    const headers = madeUpClient();
    const receiver = await userOn(A, A, headers);
    const inbox = await connectIo(t, A.url, receiver.access);
    const senders = await Promise.all([A, B, A, B, A, B, A, B].map((proc) => userOn(proc, A, headers)));
    // Within the default sending budget (a burst of 30): every DM is accepted.
    const PER_SENDER = 20;
    await Promise.all(
      senders.map(async (sender) => {
        for (let i = 0; i < PER_SENDER; i++) t.equal((await sender.api.post('/api/messages/', { receiver: receiver.id, content: `m${i}` })).status, 201);
      }),
    );
    const total = senders.length * PER_SENDER;
    const seqs: number[] = [];
    for (let i = 0; i < total; i++) seqs.push((await nextEvent(inbox, 'dm:new')).seq);
    // The receiver's only events are these DMs, so their seqs are 1..total, in that order.
    t.same(seqs, Array.from({ length: total }, (_, i) => i + 1), 'every seq once, in order');
  });

  t.test('a post rendered on A shows changes made on B at once (the rendering cache)', async (t) => {
    const [alice, bob] = [await userOn(A), await userOn(B, A)];
    const post = (await alice.api.post('/api/posts/', { content: 'first' })).body;
    const onA = async () => (await alice.api.get(`/api/posts/${post.id}/`)).body;
    t.match(await onA(), { content: 'first', comments: [] }, 'rendered and kept on A');
    t.equal((await bob.api.post('/api/comments/', { post: post.id, content: 'from B' })).status, 201);
    t.match(await onA(), { comments_count: 1, comments: [{ content: 'from B', author_username: bob.username }] }, 'a comment made on B');
    const renamed = `${bob.username}b`;
    t.equal((await bob.api.patch(`/api/users/${bob.id}/`, { username: renamed })).status, 200);
    // The rename reaches A through Redis (user.updated), not through the database: allow it the bus's moment.
    let seen = await onA();
    for (let i = 0; i < 50 && seen.comments[0]?.author_username !== renamed; i++) {
      await new Promise((r) => setTimeout(r, 20));
      seen = await onA();
    }
    t.match(seen, { comments: [{ author_username: renamed }] }, "the commenter's new name, announced on the bus");
  });

  t.test('group messages and membership frames cross processes', async (t) => {
    const alice = await userOn(A);
    const bob = await userOn(B, A);
    const group = (await alice.api.post('/api/groups/', { name: 'scale-out' })).body;
    const aliceWs = await open(t, A, `/ws/group/${group.id}/`, alice);
    t.equal((await bob.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    t.match(await nextFrame(aliceWs, ofType('member-joined')), { user_id: bob.id }, 'a join on B is heard on A');
    const bobWs = await open(t, B, `/ws/group/${group.id}/`, bob);
    t.match(await nextFrame(aliceWs, ofType('user-joined')), { user_id: bob.id }, 'and so is his arrival in the room on B');

    sendJson(aliceWs, { type: 'message', content: 'hello from A' });
    t.match(await nextFrame(bobWs, ofType('message')), { group_id: group.id, sender_id: alice.id, content: 'hello from A' });
    const rest = await bob.api.post('/api/group-messages/', { group: group.id, content: 'hello from B' });
    t.equal(rest.status, 201);
    t.match(await nextFrame(aliceWs, messageWithId(rest.body.id)), { sender_id: bob.id, content: 'hello from B' });

    const kicked = closeCode(bobWs);
    t.equal((await bob.api.post(`/api/groups/${group.id}/leave/`)).status, 200);
    t.equal(await kicked, 4403, "leaving on B closes the member's group socket on B");
    t.match(await nextFrame(aliceWs, ofType('member-left')), { user_id: bob.id });
    t.match(await nextFrame(aliceWs, ofType('user-left')), { user_id: bob.id });
  });

  t.test("group room presence: first connection in and last one out over every process, announced once", async (t) => {
    const [alice, bob, carol] = [await userOn(A), await userOn(B, A), await userOn(B, A)];
    const group = (await alice.api.post('/api/groups/', { name: 'lobby' })).body;
    for (const who of [bob, carol]) t.equal((await who.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    const room = `/ws/group/${group.id}/`;
    const onA = await open(t, A, room, alice);
    const onB = await open(t, B, room, alice);

    const bobOnB = await open(t, B, room, bob);
    t.match(await nextFrame(onA, ofType('user-joined')), { user_id: bob.id, username: bob.username }, 'an arrival on B is heard on A');
    t.match(await nextFrame(onB, ofType('user-joined')), { user_id: bob.id }, 'and on B');
    const bobOnA = await open(t, A, room, bob);
    const carolOnA = await open(t, A, room, carol);
    for (const socket of [onA, onB]) {
      t.match(await nextFrame(socket, ofType('user-joined')), { user_id: carol.id }, "bob's connection on the other process is not a second arrival: carol's is next");
    }
    t.match(await nextFrame(bobOnA, ofType('user-joined')), { user_id: carol.id });
    t.same([...buffered(bobOnA, about(bob)), ...buffered(bobOnB, about(bob))], [], 'bob heard nothing about himself');

    bobOnB.close();
    bobOnA.close();
    t.match(await nextFrame(onB, ofType('user-left')), { user_id: bob.id }, 'gone once his last connection (on A) closed, heard on B');
    t.match(await nextFrame(onA, ofType('user-left')), { user_id: bob.id });
    carolOnA.close();
    for (const socket of [onA, onB]) t.match(await nextFrame(socket, ofType('user-left')), { user_id: carol.id }, 'bob left once: carol is next');
  });

  t.test('a call started on A rings on B, and signaling crosses both ways', async (t) => {
    const alice = await userOn(A);
    const bob = await userOn(B, A);
    const aliceWs = await open(t, A, '/ws/calls/', alice);
    const bobWs = await open(t, B, '/ws/calls/', bob);

    const call = await alice.api.post('/api/calls/', { receiver: bob.id, call_type: 'video' });
    t.equal(call.status, 201);
    const callId = call.body.id;
    t.match(await nextFrame(bobWs, ofType('incoming_call')), { call_id: callId, caller: { id: alice.id }, call_type: 'video' }, 'rings on B');

    sendJson(aliceWs, { type: 'offer', call_id: callId, sdp: 'v=0 offer' });
    t.match(await nextFrame(bobWs, ofType('offer')), { call_id: callId, from_user: alice.id, sdp: 'v=0 offer' });
    t.equal((await bob.api.post(`/api/calls/${callId}/accept/`)).status, 200);
    t.match(await nextFrame(aliceWs, ofType('call_accepted')), { call_id: callId, user_id: bob.id }, 'accepted on B, heard on A');
    sendJson(bobWs, { type: 'answer', call_id: callId, sdp: 'v=0 answer' });
    t.match(await nextFrame(aliceWs, ofType('answer')), { call_id: callId, from_user: bob.id, sdp: 'v=0 answer' });
    sendJson(bobWs, { type: 'ice_candidate', call_id: callId, candidate: 'candidate:1 1 UDP 1 10.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 });
    t.match(await nextFrame(aliceWs, ofType('ice_candidate')), { call_id: callId, from_user: bob.id, sdpMid: '0', sdpMLineIndex: 0 });
    sendJson(aliceWs, { type: 'ice_candidate', call_id: callId, candidate: '' });
    t.match(await nextFrame(bobWs, ofType('ice_candidate')), { call_id: callId, from_user: alice.id, candidate: '' });

    t.equal((await alice.api.post(`/api/calls/${callId}/end/`)).status, 200);
    t.match(await nextFrame(bobWs, ofType('call_ended')), { call_id: callId, user_id: alice.id });
  });

  t.test('presence counts connections on every process', async (t) => {
    const [alice, watcher] = [await userOn(A), await userOn(B, A)];
    t.equal((await watcher.api.post(`/api/users/${alice.id}/follow/`)).status, 200);
    const watch = await open(t, B, '/ws/status/', watcher);

    const onA = await open(t, A, '/ws/status/', alice);
    t.match(await nextFrame(watch, presenceOf(alice, true)), { username: alice.username }, 'online on A, announced on B');
    t.equal((await B.api.as(watcher).get(`/api/users/${alice.id}/`)).body.is_online, true, 'and B serves it over REST');

    let lastClosedAt = 0;
    await open(t, B, '/ws/calls/', alice).then(async (onB) => {
      onA.close();
      await closeCode(onA);
      t.equal((await B.api.as(watcher).get(`/api/users/${alice.id}/`)).body.is_online, true);
      lastClosedAt = Date.now();
      onB.close();
    });
    const offline = await nextFrame(watch, presenceOf(alice, false));
    // Had closing A announced her offline, that earlier frame would be this one.
    t.ok(Date.parse(offline.last_seen) >= lastClosedAt - 1, 'closing A keeps her online: B still holds a connection');
    const profile = (await A.api.as(watcher).get(`/api/users/${alice.id}/`)).body;
    t.match(profile, { is_online: false, last_seen: offline.last_seen }, 'offline once the last connection anywhere closed');
    // Back online: a second offline announcement would come before this.
    await open(t, A, '/ws/status/', alice);
    t.notOk((await framesBefore(watch, presenceOf(alice, true))).some(presenceOf(alice, false)), 'announced once');
  });

  t.test('auth rate limits are one budget across processes', async (t) => {
    // A made-up client address, so other tests' logins do not count; a different account each
    // time, so the per-account failure limit stays out of it.
    const headers = madeUpClient();
    let n = 0;
    const attempt = (proc: Proc) => proc.api.request('POST', '/api/users/login/', { username: `nobody-${++n}`, password: 'wrong-password' }, headers);
    for (let i = 0; i < AUTH_LIMIT; i++) {
      const res = await attempt(i % 2 ? B : A);
      if (res.status === 429) return t.fail(`throttled after only ${i} attempts`);
    }
    for (const proc of [A, B]) {
      const res = await attempt(proc);
      t.equal(res.status, 429, `attempt ${AUTH_LIMIT + 1} on ${proc.name} is throttled: half the budget was spent on each`);
      t.ok(Number(res.headers.get('retry-after')) > 0, 'with Retry-After');
    }
  });

  t.test('a ban by `jvai admin` closes the user’s sockets on every process within 2 s, with or without Redis', async (t) => {
    for (const redis of [true, false]) {
      const peer = await userOn(A);
      const mallory = await userOn(B, A);
      const sockets = [await open(t, A, `/ws/messages/${peer.id}/`, mallory), await open(t, B, '/ws/status/', mallory)];
      const closed = sockets.map((socket) => closeCode(socket, 60_000).then((code) => ({ code, at: Date.now() })));
      const adminEnv: NodeJS.ProcessEnv = { ...process.env, ...env, JVAI_DATA_DIR: dirs[0] };
      // Without REDIS_URL the admin process cannot publish: the servers learn of it from the database.
      if (!redis) delete adminEnv.REDIS_URL;
      const res = await runJvai(['admin', 'users', 'ban', mallory.username], { env: adminEnv, cwd: dirs[0] });
      t.equal(res.code, 0, res.stderr);
      const doneAt = Date.now();
      for (const [i, result] of closed.entries()) {
        const { code, at } = await result;
        t.equal(code, 4401, `${redis ? 'with' : 'without'} Redis: the socket on ${i ? 'B' : 'A'} closes with 4401`);
        t.ok(at - doneAt < 2_000, `${at - doneAt} ms after the command finished`);
      }
    }
  });

  // Last: it kills A.
  t.test('after kill -9 of a process, its users go offline within 60 s, once, and leave the group rooms they were in there', async (t) => {
    const C = await start('C'); // a second survivor, so two sweepers race for the dead process
    const [carol, dave, watcher] = [await userOn(A), await userOn(A), await userOn(B, A)];
    for (const user of [carol, dave]) t.equal((await watcher.api.post(`/api/users/${user.id}/follow/`)).status, 200);
    const watch = await open(t, B, '/ws/status/', watcher);
    await open(t, A, '/ws/status/', carol);
    await nextFrame(watch, presenceOf(carol, true));
    await open(t, A, '/ws/status/', dave);
    await nextFrame(watch, presenceOf(dave, true));
    await open(t, C, '/ws/calls/', dave);
    // In a group room: carol only on A, dave on A and C; the watcher listens on B.
    const group = (await watcher.api.post('/api/groups/', { name: 'doomed-process' })).body;
    for (const user of [carol, dave]) t.equal((await user.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    const room = `/ws/group/${group.id}/`;
    const roomWatch = await open(t, B, room, watcher);
    await open(t, A, room, carol);
    await nextFrame(roomWatch, about(carol, 'user-joined'));
    await open(t, A, room, dave);
    await nextFrame(roomWatch, about(dave, 'user-joined'));
    await open(t, C, room, dave);

    const killedAt = Date.now();
    A.child.kill('SIGKILL');
    await exited(A.child);
    const offline = await nextFrame(watch, presenceOf(carol, false), 60_000);
    const after = Date.now() - killedAt;
    t.ok(after < (PRESENCE_TTL * 4 * 1000) / 3 + 2_000, `carol (only on A) announced offline ${after} ms after the kill: within the configured TTL plus one sweep`);
    t.match((await B.api.as(watcher).get(`/api/users/${carol.id}/`)).body, { is_online: false, last_seen: offline.last_seen });
    t.ok(await noFrame(watch, presenceOf(carol, false), 1_500), 'announced once although two processes sweep');
    // A marker after the sweeps: had dave been flagged offline, that frame would come before it.
    const erin = await userOn(B);
    t.equal((await watcher.api.post(`/api/users/${erin.id}/follow/`)).status, 200);
    await open(t, B, '/ws/status/', erin);
    const before = await framesBefore(watch, presenceOf(erin, true));
    t.notOk(before.some(presenceOf(dave, false)), 'dave, also connected to C, stays online');
    t.equal((await C.api.as(watcher).get(`/api/users/${dave.id}/`)).body.is_online, true);

    t.match(await nextFrame(roomWatch, about(carol, 'user-left'), 5_000), { user_id: carol.id, username: carol.username }, 'carol left the group room with A');
    t.same(buffered(roomWatch, about(carol)), [], 'once');
    t.same(buffered(roomWatch, about(dave)), [], 'dave, in the room on C too, is still there');

    // A room flag that outlived every hold (its sweeper died before clearing it) is cleared by the next process to start.
    const frank = await userOn(B);
    t.equal((await frank.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    const redis = new Redis(REDIS_URL);
    t.teardown(() => redis.disconnect());
    await redis.set(`${prefix}:rooms:in:${group.id}:${frank.id}`, '1');
    await start('D');
    t.match(await nextFrame(roomWatch, about(frank, 'user-left')), { username: frank.username }, 'announced gone by the process that found the stale flag');
  });
});
