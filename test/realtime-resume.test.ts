import t from 'tap';
import type { Test } from 'tap';
import type WebSocket from 'ws';
import { QueryTypes } from 'sequelize';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { closeCode, connectWs, framesBeforePong, nextFrame, wsUrl, type Frame } from './helpers/ws.js';
import { REPLAY_LIMIT } from '../src/schemas/protocol.js';

const ofType = (type: string) => (f: Frame) => f.type === type;

t.test('the event log and resuming raw websockets', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const users = (n: number) => Promise.all(Array.from({ length: n }, () => makeUser(api)));

  const open = async (t: Test, path: string, who: TestUser): Promise<WebSocket> => {
    const socket = await connectWs(wsUrl(server.url, path), who.access);
    t.teardown(() => socket.close());
    return socket;
  };
  const dm = async (from: TestUser, to: TestUser, content: string, clientId?: string) => {
    const res = await from.api.post('/api/messages/', { receiver: to.id, content, ...(clientId ? { client_id: clientId } : {}) });
    t.equal(res.status, 201);
    return res.body;
  };
  const logRows = async (userId: number) =>
    server.sequelize.query<{ seq: number; name: string }>('SELECT seq, name FROM user_events WHERE user_id = :userId ORDER BY seq', {
      type: QueryTypes.SELECT,
      replacements: { userId },
    });
  /** Frames until `count` have arrived (fails on timeout). */
  const frames = async (socket: WebSocket, count: number, predicate = ofType('message')) => {
    const got: Frame[] = [];
    for (let i = 0; i < count; i++) got.push(await nextFrame(socket, predicate));
    return got;
  };

  t.test('missed direct messages are replayed exactly, in order, then live ones follow', async (t) => {
    const [alice, bob] = await users(2);
    const first = await open(t, `/ws/messages/${alice.id}/`, bob);
    await dm(alice, bob, 'one');
    const seen = await nextFrame(first, ofType('message'));
    t.equal(seen.content, 'one');
    t.equal(seen.seq, 1, "bob's first event");
    first.close();
    await closeCode(first);

    // Away: three messages in this conversation, and one from someone else (another endpoint's).
    const [carol] = await users(1);
    await dm(alice, bob, 'two');
    await dm(bob, alice, 'three');
    await dm(carol, bob, 'elsewhere');
    await dm(alice, bob, 'four');

    const back = await open(t, `/ws/messages/${alice.id}/?since=${seen.seq}`, bob);
    const replayed = await frames(back, 3);
    t.same(replayed.map((f) => f.content), ['two', 'three', 'four'], 'only this conversation, in order');
    t.same(replayed.map((f) => f.seq), [2, 3, 5], "bob's seqs: the message from carol took 4");
    t.match(replayed[1], { type: 'message', sender_id: bob.id, receiver_id: alice.id, content: 'three' });
    t.notOk((await framesBeforePong(back)).some(ofType('message')), 'nothing more');

    await dm(alice, bob, 'live');
    t.match(await nextFrame(back, ofType('message')), { content: 'live', seq: 6 });

    const rows = await logRows(bob.id);
    t.same(rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6], 'a gapless sequence per user');

    // since = the latest seq: nothing to replay.
    const current = await open(t, `/ws/messages/${alice.id}/?since=6`, bob);
    t.notOk((await framesBeforePong(current)).some(ofType('message')), 'nothing to replay');
  });

  t.test('no gap and no duplicate between the replay and live frames', async (t) => {
    const [alice, bob] = await users(2);
    for (let i = 1; i <= 20; i++) await dm(alice, bob, `m${i}`);
    const socket = await open(t, `/ws/messages/${alice.id}/?since=0`, bob);
    // Sent while the replay may still be under way.
    const sending = (async () => {
      for (let i = 21; i <= 30; i++) await dm(alice, bob, `m${i}`);
    })();
    const got = await frames(socket, 30);
    await sending;
    t.same(got.map((f) => f.content), Array.from({ length: 30 }, (_, i) => `m${i + 1}`));
    t.same(got.map((f) => f.seq), Array.from({ length: 30 }, (_, i) => i + 1));
    t.notOk((await framesBeforePong(socket)).some(ofType('message')), 'no duplicates');
  });

  t.test('messages sent at once: each side hears them in seq order, and a replay has the same order', async (t) => {
    const [alice, bob, carol] = await users(3);
    const socket = await open(t, `/ws/messages/${alice.id}/?since=0`, bob);
    await framesBeforePong(socket);
    // Concurrent sends share the writer's transactions (SQLite), whose log rows are written together.
    await Promise.all([...Array.from({ length: 25 }, (_, i) => dm(alice, bob, `a${i}`)), ...Array.from({ length: 15 }, (_, i) => dm(carol, bob, `c${i}`))]);
    const live = await frames(socket, 25);
    const seqs = live.map((f) => f.seq as number);
    t.same(seqs, [...seqs].sort((a, b) => a - b), 'heard with rising seqs');
    // Concurrent sends may take ids and seqs in different orders (clients order messages by id).
    const ids = (frames: Frame[]) => frames.map((f) => f.message_id as number);
    t.same((await logRows(bob.id)).map((r) => r.seq), Array.from({ length: 40 }, (_, i) => i + 1), "bob's sequence has no gap");
    t.same((await logRows(alice.id)).map((r) => r.seq), Array.from({ length: 25 }, (_, i) => i + 1), "and alice's");
    const replay = await open(t, `/ws/messages/${alice.id}/?since=0`, bob);
    t.same(ids(await frames(replay, 25)), ids(live), 'the replay has the live order');
  });

  t.test('group and call endpoints replay their own events only', async (t) => {
    const [alice, bob] = await users(2);
    const group = (await alice.api.post('/api/groups/', { name: 'resumers' })).body;
    t.equal((await bob.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    const since = (await bob.api.get('/api/events/')).body.latest_seq;
    t.equal(since, 1, 'bob heard of his own join');

    await alice.api.post('/api/group-messages/', { group: group.id, content: 'while away' });
    await dm(alice, bob, 'a dm');
    const call = (await alice.api.post('/api/calls/', { receiver: bob.id })).body;
    await alice.api.post(`/api/calls/${call.id}/end/`);

    const groupWs = await open(t, `/ws/group/${group.id}/?since=${since}`, bob);
    t.match(await nextFrame(groupWs, ofType('message')), { content: 'while away', group_id: group.id, seq: since + 1 });
    t.same(await framesBeforePong(groupWs), [], 'no dm, no call');

    const callsWs = await open(t, `/ws/calls/?since=${since}`, bob);
    t.match(await nextFrame(callsWs, ofType('incoming_call')), { call_id: call.id, seq: since + 3 });
    t.match(await nextFrame(callsWs, ofType('call_ended')), { call_id: call.id, user_id: alice.id, seq: since + 4 });
    t.notOk((await framesBeforePong(callsWs)).some(ofType('message')), 'no messages');

    const statusWs = await open(t, `/ws/status/?since=${since}`, bob);
    t.notOk((await framesBeforePong(statusWs)).some((f) => 'seq' in f), '/ws/status/ has no logged events');
  });

  t.test('too large a gap gets a resync frame instead', async (t) => {
    const [alice, bob] = await users(2);
    // Written straight into the log: a thousand messages over HTTP would only slow the test.
    await server.sequelize.query(`INSERT INTO user_event_counters (user_id, seq) VALUES (${bob.id}, ${REPLAY_LIMIT + 5})`);
    const payload = JSON.stringify({ message: { id: 1, sender: alice.id, sender_username: alice.username, receiver: bob.id, receiver_username: bob.username, content: 'x', is_read: false, read_at: null, created_at: new Date().toISOString() } });
    await server.sequelize.getQueryInterface().bulkInsert(
      'user_events',
      Array.from({ length: REPLAY_LIMIT + 5 }, (_, i) => ({ user_id: bob.id, seq: i + 1, name: 'dm.created', payload, created_at: new Date() })),
    );
    const socket = await open(t, `/ws/messages/${alice.id}/?since=2`, bob);
    t.same(await nextFrame(socket, ofType('resync')), { type: 'resync', latest_seq: REPLAY_LIMIT + 5 });
    t.notOk((await framesBeforePong(socket)).some(ofType('message')), 'nothing replayed');
    await dm(alice, bob, 'after');
    t.match(await nextFrame(socket, ofType('message')), { content: 'after', seq: REPLAY_LIMIT + 6 }, 'then live');

    const small = await open(t, `/ws/messages/${alice.id}/?since=${REPLAY_LIMIT}`, bob);
    t.same((await frames(small, 6)).map((f) => f.seq), Array.from({ length: 6 }, (_, i) => REPLAY_LIMIT + 1 + i), 'a small gap replays');

    // Pruned rows cannot be replayed: resync.
    await server.sequelize.query(`DELETE FROM user_events WHERE user_id = ${bob.id} AND seq < 100`);
    const pruned = await open(t, `/ws/messages/${alice.id}/?since=10`, bob);
    t.same(await nextFrame(pruned, ofType('resync')), { type: 'resync', latest_seq: REPLAY_LIMIT + 6 });
    const ahead = await open(t, `/ws/messages/${alice.id}/?since=99999`, bob);
    t.same(await nextFrame(ahead, ofType('resync')), { type: 'resync', latest_seq: REPLAY_LIMIT + 6 }, 'a since from the future');

    t.equal(await closeCode(await open(t, `/ws/messages/${alice.id}/?since=abc`, bob)), 4400, 'since must be an integer');
    t.equal(await closeCode(await open(t, `/ws/messages/${alice.id}/?since=-1`, bob)), 4400);
  });

  t.test('an idempotent retry writes one log row per recipient', async (t) => {
    const [alice, bob] = await users(2);
    const first = await dm(alice, bob, 'once', 'retry-1');
    const again = await alice.api.post('/api/messages/', { receiver: bob.id, content: 'once', client_id: 'retry-1' });
    t.equal(again.status, 201);
    t.equal(again.body.id, first.id, 'the same message');
    // Simultaneous retries race to the unique index; the loser's transaction (and log rows) roll back.
    const racing = await Promise.all(Array.from({ length: 5 }, () => alice.api.post('/api/messages/', { receiver: bob.id, content: 'race', client_id: 'retry-2' })));
    t.same(new Set(racing.map((r) => r.body.id)).size, 1);
    t.same((await logRows(bob.id)).map((r) => r.name), ['dm.created', 'dm.created']);
    t.same((await logRows(alice.id)).map((r) => r.seq), [1, 2]);
    // A failed send logs nothing.
    t.equal((await alice.api.post('/api/messages/', { receiver: bob.id, content: '' })).status, 400);
    t.equal((await logRows(bob.id)).length, 2);
  });

  t.test('a group message is logged once for all its members, and replays in full to each', async (t) => {
    const [alice, bob, carol] = await users(3);
    const group = (await alice.api.post('/api/groups/', { name: 'shared payload' })).body;
    for (const member of [bob, carol]) t.equal((await member.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    const since = (await carol.api.get('/api/events/')).body.latest_seq;
    const sent = (await bob.api.post('/api/group-messages/', { group: group.id, content: 'to everyone' })).body;
    const rows = await server.sequelize.query<{ payload: string; payload_id: number | null }>(
      "SELECT e.payload, e.payload_id FROM user_events e WHERE e.name = 'group_message.created' AND e.user_id IN (:ids)",
      { type: QueryTypes.SELECT, replacements: { ids: [alice.id, bob.id, carol.id] } },
    );
    t.equal(rows.length, 3, 'one log row per member');
    t.equal(new Set(rows.map((r) => r.payload_id)).size, 1, 'all pointing at one stored payload');
    t.ok(rows.every((r) => r.payload === '' && r.payload_id !== null), 'no copies');
    for (const member of [alice, carol]) {
      const missed = (await member.api.get(`/api/events/?since=${member === carol ? since : 0}`)).body.events;
      t.match(missed.at(-1), { event: 'group:message', data: { id: sent.id, content: 'to everyone', sender_username: bob.username } });
    }
  });

  t.test('GET /api/events/ lists the logged events as the socket.io channel names them', async (t) => {
    const [alice, bob] = await users(2);
    const sent = await dm(alice, bob, 'hello');
    t.equal((await bob.api.post(`/api/messages/${sent.id}/mark_as_read/`)).status, 200);
    const group = (await alice.api.post('/api/groups/', { name: 'listed' })).body;
    await bob.api.post(`/api/groups/${group.id}/join/`);
    await bob.api.post(`/api/groups/${group.id}/leave/`);

    const all = await bob.api.get('/api/events/');
    t.equal(all.status, 200);
    t.equal(all.body.latest_seq, 4);
    t.equal(all.body.resync, false);
    t.same(all.body.events.map((e: Frame) => [e.seq, e.event]), [[1, 'dm:new'], [2, 'dm:read'], [3, 'group:joined'], [4, 'group:left']]);
    t.match(all.body.events[0], { seq: 1, event: 'dm:new', data: { id: sent.id, content: 'hello', seq: 1 }, created_at: /Z$/ });
    t.match(all.body.events[1].data, { id: sent.id, is_read: true, read_at: /Z$/ });
    t.same(all.body.events[3].data, { group_id: group.id, user_id: bob.id, username: bob.username, seq: 4 });

    const page = await bob.api.get('/api/events/?since=1&limit=2');
    t.same(page.body.events.map((e: Frame) => e.seq), [2, 3]);
    t.equal(page.body.latest_seq, 4);
    t.same((await alice.api.get('/api/events/?since=1')).body.events.map((e: Frame) => e.event), ['dm:read', 'group:joined', 'group:left'], "alice's own log");

    t.match((await bob.api.get('/api/events/?since=x')).body, { since: ['A valid integer is required.'] });
    t.equal((await bob.api.get('/api/events/?limit=0')).status, 400);
    t.equal((await bob.api.get(`/api/events/?limit=${REPLAY_LIMIT + 1}`)).status, 400);
    t.equal((await api.get('/api/events/')).status, 401);
  });

  t.test('pruning keeps the log bounded', async (t) => {
    const [alice, bob] = await users(2);
    await dm(alice, bob, 'old');
    await dm(alice, bob, 'new');
    await server.sequelize.query(`UPDATE user_events SET created_at = :old WHERE user_id = ${bob.id} AND seq = 1`, { replacements: { old: new Date(Date.now() - 40 * 24 * 3600 * 1000) } });
    await server.app.services.deps.events.prune();
    t.same((await logRows(bob.id)).map((r) => r.seq), [2], 'rows past the age limit are gone');
    t.match((await bob.api.get('/api/events/?since=0')).body, { resync: true, latest_seq: 2 }, 'and asking for them says so');
  });
});
