import t from 'tap';
import type { Test } from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import type { ServerEventName, SocketAuth } from '../src/schemas/protocol.js';
import { connectIo, nextEvent, openIo, received, type IoClient } from './helpers/socketio.js';

type Client = IoClient;

t.test('the socket.io channel', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const users = (n: number) => Promise.all(Array.from({ length: n }, () => makeUser(api)));

  const socket = (t: Test, auth: Partial<SocketAuth> | undefined): Client => openIo(t, server.url, auth);
  const connect = (t: Test, who: TestUser, since?: number): Promise<Client> => connectIo(t, server.url, who.access, since);
  const refusal = (t: Test, auth?: Partial<SocketAuth>) =>
    new Promise<Error & { data?: unknown }>((resolve, reject) => {
      const client = socket(t, auth);
      client.once('connect', () => reject(new Error('connected')));
      client.once('connect_error', resolve);
    });
  const next = (client: Client, event: ServerEventName, where?: (data: any) => boolean, timeoutMs?: number): Promise<any> => nextEvent(client, event, where, timeoutMs);
  /**
   * Whether `event` has arrived by the time a request sent now is acknowledged: whatever the
   * server wrote to this connection before reading the request arrives first (with the
   * in-process bus, a write's events are written to sockets before the write is answered).
   */
  const heard = async (client: Client, event: ServerEventName): Promise<boolean> => {
    await client.emitWithAck('typing', {} as never);
    return received(client).some((e) => e.event === event);
  };

  t.test('connections without a valid token are refused with the API detail', async (t) => {
    const [alice] = await users(1);
    t.match(await refusal(t), { message: 'Authentication credentials were not provided.', data: { status: 401 } });
    t.match(await refusal(t, { token: 'not-a-jwt' }), { data: { status: 401 } });
    t.match(await refusal(t, { token: alice.refresh }), { data: { status: 401 } }, 'a refresh token is not an access token');
    t.match(await refusal(t, { token: alice.access, since: -3 }), { message: 'since: A valid integer is required.', data: { status: 400 } });
  });

  t.test('direct messages: acknowledged sends, idempotent retries, delivery to both sides, read receipts', async (t) => {
    const [alice, bob, carol] = await users(3);
    const [a, b, c] = await Promise.all([connect(t, alice), connect(t, bob), connect(t, carol)]);

    const ack = await a.emitWithAck('dm:send', { to: bob.id, content: 'Hi Bob', client_id: 'k-1' });
    t.ok(ack.ok);
    if (!ack.ok) return;
    t.match(ack.message, { sender: alice.id, receiver: bob.id, receiver_username: bob.username, content: 'Hi Bob', is_read: false });
    const atBob = await next(b, 'dm:new');
    t.same(atBob, { ...ack.message, seq: 1 });
    t.match(await next(a, 'dm:new'), { id: ack.message.id, seq: 1 }, "the sender's other devices see it");

    const retry = await a.emitWithAck('dm:send', { to: bob.id, content: 'Hi Bob', client_id: 'k-1' });
    t.same(retry, ack, 'a retry with the same client_id returns the same message');
    t.notOk(await heard(b, 'dm:new'), 'and is not delivered twice');
    t.notOk(await heard(c, 'dm:new'), 'strangers hear nothing');

    const rest = await bob.api.post('/api/messages/', { receiver: alice.id, content: 'via REST' });
    t.match(await next(a, 'dm:new'), { id: rest.body.id, content: 'via REST', seq: 2 });

    t.same(await a.emitWithAck('dm:send', { to: bob.id, content: '  ' }), { ok: false, error: 'content: This field may not be blank.', status: 400 });
    t.same(await a.emitWithAck('dm:send', { to: alice.id, content: 'me' }), { ok: false, error: 'You cannot send a message to yourself.', status: 400 });
    t.match(await a.emitWithAck('dm:send', { content: 'x' } as never), { ok: false, error: 'to: This field is required.', status: 400 });

    const read = await b.emitWithAck('dm:read', { message_id: ack.message.id });
    t.match(read, { ok: true, message: { id: ack.message.id, is_read: true } });
    t.match(await next(a, 'dm:read'), { id: ack.message.id, is_read: true, seq: 3 }, 'the sender gets the read receipt');
    t.match(await next(b, 'dm:read'), { id: ack.message.id, seq: 3 });
    t.same(await a.emitWithAck('dm:read', { message_id: ack.message.id }), { ok: false, error: 'You do not have permission to perform this action.', status: 403 });
    t.same(await c.emitWithAck('dm:read', { message_id: ack.message.id }), { ok: false, error: 'Not found.', status: 404 });
  });

  t.test('a user renamed while connected sends under the new name', async (t) => {
    const [alice, bob] = await users(2);
    const [a, b] = await Promise.all([connect(t, alice), connect(t, bob)]);
    const renamed = `${alice.username}-new`;
    t.equal((await alice.api.patch(`/api/users/${alice.id}/`, { username: renamed })).status, 200);
    const ack = await a.emitWithAck('dm:send', { to: bob.id, content: 'renamed' });
    t.match(ack, { ok: true, message: { sender_username: renamed } });
    t.match(await next(b, 'dm:new', (m) => m.content === 'renamed'), { sender_username: renamed });
  });

  t.test('groups: messages of every group, joins and leaves, typing', async (t) => {
    const [alice, bob, carol] = await users(3);
    const [a, b, c] = await Promise.all([connect(t, alice), connect(t, bob), connect(t, carol)]);
    const group = (await alice.api.post('/api/groups/', { name: 'io' })).body;
    await bob.api.post(`/api/groups/${group.id}/join/`);
    t.match(await next(a, 'group:joined'), { group_id: group.id, user_id: bob.id, username: bob.username, seq: Number });
    t.match(await next(b, 'group:joined'), { group_id: group.id, user_id: bob.id });

    const sent = await b.emitWithAck('group:send', { group_id: group.id, content: 'Hello group', client_id: 'g-1' });
    t.match(sent, { ok: true, message: { group: group.id, sender: bob.id, content: 'Hello group' } });
    t.match(await next(a, 'group:message'), { content: 'Hello group', group: group.id, seq: Number });
    t.match(await next(b, 'group:message'), { content: 'Hello group' });
    t.same(await b.emitWithAck('group:send', { group_id: group.id, content: 'Hello group', client_id: 'g-1' }), sent, 'idempotent');
    t.same(await c.emitWithAck('group:send', { group_id: group.id, content: 'let me in' }), { ok: false, error: 'You do not have permission to perform this action.', status: 403 });
    t.same(await c.emitWithAck('group:send', { group_id: 999999, content: 'x' }), { ok: false, error: 'Not found.', status: 404 });
    t.notOk(await heard(c, 'group:message'), 'non-members hear nothing');

    t.same(await b.emitWithAck('typing', { group_id: group.id, is_typing: true }), { ok: true });
    t.same(await next(a, 'typing'), { from_user: bob.id, username: bob.username, to_user: null, group_id: group.id, is_typing: true });
    t.notOk(await heard(b, 'typing'), 'not echoed to the typist');
    t.same(await a.emitWithAck('typing', { to_user: carol.id, is_typing: false }), { ok: true });
    t.same(await next(c, 'typing'), { from_user: alice.id, username: alice.username, to_user: carol.id, group_id: null, is_typing: false });
    t.same(await c.emitWithAck('typing', { group_id: group.id, is_typing: true }), { ok: false, error: 'You do not have permission to perform this action.', status: 403 });
    t.same(await c.emitWithAck('typing', { is_typing: true } as never), { ok: false, error: 'Give either to_user or group_id.', status: 400 });
    t.same(await c.emitWithAck('typing', { to_user: 999999, is_typing: true }), { ok: false, error: 'Not found.', status: 404 });

    await bob.api.post(`/api/groups/${group.id}/leave/`);
    t.match(await next(a, 'group:left'), { group_id: group.id, user_id: bob.id });
    t.match(await next(b, 'group:left'), { group_id: group.id, user_id: bob.id }, 'the leaver hears it too');
    await alice.api.post('/api/group-messages/', { group: group.id, content: 'after bob left' });
    t.match(await next(a, 'group:message'), { content: 'after bob left' });
    t.notOk(await heard(b, 'group:message'), 'a former member hears nothing more');

    await alice.api.delete(`/api/groups/${group.id}/`);
    t.match(await next(a, 'group:deleted'), { group_id: group.id, seq: Number });
  });

  t.test('presence of people you follow', async (t) => {
    const [alice, carol] = await users(2);
    await carol.api.post(`/api/users/${alice.id}/follow/`);
    const c = await connect(t, carol);
    const a = await connect(t, alice);
    t.same(await next(c, 'presence', (p) => p.user_id === alice.id), { user_id: alice.id, username: alice.username, is_online: true, last_seen: null });
    a.disconnect();
    t.match(await next(c, 'presence', (p) => p.user_id === alice.id), { user_id: alice.id, is_online: false, last_seen: /Z$/ });
  });

  t.test('new posts reach the author and their followers, live only', async (t) => {
    const [alice, bob, carol] = await users(3);
    await bob.api.post(`/api/users/${alice.id}/follow/`);
    const [a, b, c] = await Promise.all([connect(t, alice), connect(t, bob), connect(t, carol)]);
    const post = (await alice.api.post('/api/posts/', { content: 'live post' })).body;
    const expected = { post_id: post.id, author_id: alice.id, author_username: alice.username };
    t.same(await next(b, 'post:created'), expected, 'a follower gets it, without seq');
    t.same(await next(a, 'post:created'), expected, 'so does the author');
    // An author's posts fan out in order: had carol got the first, it would come before this one.
    await carol.api.post(`/api/users/${alice.id}/follow/`);
    const later = (await alice.api.post('/api/posts/', { content: 'after the follow' })).body;
    t.same(await next(c, 'post:created'), { ...expected, post_id: later.id }, 'a stranger did not get the first');
    for (const client of [a, b]) t.same(await next(client, 'post:created'), { ...expected, post_id: later.id });
    await carol.api.post(`/api/users/${alice.id}/unfollow/`);

    const lone = (await carol.api.post('/api/posts/', { content: 'nobody follows carol' })).body;
    t.same(await next(c, 'post:created'), { post_id: lone.id, author_id: carol.id, author_username: carol.username });
    t.equal((await alice.api.post('/api/posts/', { content: '' })).status, 400);
    // Carol's fan-out reached her, so it is over; alice's next post is the next event of hers.
    const marker = (await alice.api.post('/api/posts/', { content: 'marker' })).body;
    for (const client of [a, b]) t.same(await next(client, 'post:created'), { ...expected, post_id: marker.id }, 'nothing for an unfollowed author or a refused post');
  });

  t.test('calls: state events and signaling between participants only', async (t) => {
    const [alice, bob, carol] = await users(3);
    const [a, b, c] = await Promise.all([connect(t, alice), connect(t, bob), connect(t, carol)]);
    const call = (await alice.api.post('/api/calls/', { receiver: bob.id, call_type: 'video' })).body;
    t.match(await next(b, 'call:started'), { call: { id: call.id, status: 'pending', caller: { id: alice.id } }, by_user_id: null, seq: Number });
    t.match(await next(a, 'call:started'), { call: { id: call.id } }, 'the caller sees it too');

    const offer = { call_id: call.id, type: 'offer' as const, sdp: 'v=0 offer' };
    t.same(await a.emitWithAck('call:signal', offer), { ok: true });
    t.same(await next(b, 'call:signal'), { type: 'offer', call_id: call.id, from_user: alice.id, sdp: 'v=0 offer' });
    t.same(await c.emitWithAck('call:signal', offer), { ok: false, error: 'Call not found or unauthorized', status: 404 }, 'a stranger cannot signal');
    t.match(await a.emitWithAck('call:signal', { call_id: call.id, type: 'offer' } as never), { ok: false, error: 'sdp: This field is required.' });

    t.equal((await bob.api.post(`/api/calls/${call.id}/accept/`)).status, 200);
    t.match(await next(a, 'call:accepted'), { call: { id: call.id, status: 'active' }, by_user_id: bob.id });
    t.same(await b.emitWithAck('call:signal', { call_id: call.id, type: 'ice_candidate', candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 }), { ok: true });
    t.same(await next(a, 'call:signal'), { type: 'ice_candidate', call_id: call.id, from_user: bob.id, candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 });
    t.notOk(await heard(c, 'call:signal'), 'strangers hear nothing');

    t.equal((await alice.api.post(`/api/calls/${call.id}/end/`)).status, 200);
    t.match(await next(b, 'call:ended'), { call: { id: call.id, status: 'ended' }, by_user_id: alice.id });
    t.same(await b.emitWithAck('call:signal', { call_id: call.id, type: 'answer', sdp: 'late' }), { ok: false, error: 'Call not found or unauthorized', status: 404 });

    const second = (await bob.api.post('/api/calls/', { receiver: alice.id })).body;
    await alice.api.post(`/api/calls/${second.id}/reject/`);
    t.match(await next(b, 'call:rejected'), { call: { id: second.id }, by_user_id: alice.id });
    const third = (await bob.api.post('/api/calls/', { receiver: alice.id })).body;
    await bob.api.post(`/api/calls/${third.id}/end/`);
    t.match(await next(a, 'call:missed'), { call: { id: third.id, status: 'missed' }, by_user_id: bob.id });
  });

  t.test('resuming with auth.since after a disconnect', async (t) => {
    const [alice, bob] = await users(2);
    const b = await connect(t, bob);
    await alice.api.post('/api/messages/', { receiver: bob.id, content: 'seen' });
    const last = (await next(b, 'dm:new')).seq;
    b.disconnect();

    const group = (await alice.api.post('/api/groups/', { name: 'away' })).body;
    await bob.api.post(`/api/groups/${group.id}/join/`);
    await alice.api.post('/api/group-messages/', { group: group.id, content: 'missed 1' });
    await alice.api.post('/api/messages/', { receiver: bob.id, content: 'missed 2' });

    const back = await connect(t, bob, last);
    t.match(await next(back, 'group:joined'), { seq: last + 1 });
    t.match(await next(back, 'group:message'), { content: 'missed 1', seq: last + 2 });
    t.match(await next(back, 'dm:new'), { content: 'missed 2', seq: last + 3 });
    await alice.api.post('/api/messages/', { receiver: bob.id, content: 'live' });
    t.match(await next(back, 'dm:new'), { content: 'live', seq: last + 4 });
    t.notOk(await heard(back, 'dm:new'), 'no duplicates');

    // Events the log no longer holds (as after pruning): resync.
    await server.sequelize.query(`UPDATE user_event_counters SET seq = seq + 5000 WHERE user_id = ${bob.id}`);
    const pruned = await connect(t, bob, last + 4);
    t.same(await next(pruned, 'resync'), { latest_seq: last + 5004 }, 'events no longer in the log');
  });

  t.test('revoking sessions disconnects the client', async (t) => {
    const [alice] = await users(1);
    const a = await connect(t, alice);
    const gone = new Promise<string>((resolve) => a.once('disconnect', resolve));
    await alice.api.post('/api/users/change-password/', { old_password: alice.password, new_password: 'An0ther-Secret-Phrase' });
    t.same(await next(a, 'closing'), { code: 4401, reason: 'Session revoked.' });
    t.equal(await gone, 'io server disconnect');
  });
});
