import t from 'tap';
import type { Test } from 'tap';
import type WebSocket from 'ws';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { buffered, closeCode, connectWs, framesBeforePong, nextFrame, sendJson, wsUrl, type ConnectOptions, type Frame } from './helpers/ws.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const ofType = (type: string) => (f: Frame) => f.type === type;
/** Frames of logged events carry the recipient's seq beside the documented fields, which are checked without it. */
const withoutSeq = (t: Test, frame: Frame): Frame => {
  const { seq, ...fields } = frame;
  t.ok(Number.isInteger(seq) && seq > 0, `${frame.type} carries its seq`);
  return fields;
};

t.test('raw websocket endpoints', async (t) => {
  // A short ring, so a timed-out call can be watched; the other calls are answered well within it.
  const server = await startTestServer(t, { ringTimeoutSeconds: 1.5 });
  const api = new Api(server.url);
  const user = () => makeUser(api);
  /** Several fresh users at once (registration hashes a password: parallel is faster). */
  const users = (n: number) => Promise.all(Array.from({ length: n }, user));

  /** Opens a socket that the test closes when it ends. */
  const open = async (t: Test, path: string, who?: TestUser | string, opts?: ConnectOptions): Promise<WebSocket> => {
    const socket = await connectWs(wsUrl(server.url, path), typeof who === 'string' ? who : who?.access, opts);
    t.teardown(() => socket.close());
    return socket;
  };
  const refusedWith = async (t: Test, path: string, who?: TestUser | string) => closeCode(await open(t, path, who));
  const ping = async (socket: WebSocket) => {
    sendJson(socket, { type: 'ping' });
    return nextFrame(socket, ofType('pong'));
  };

  t.test('handshake refusals close with 4401/4403/4404 after the upgrade', async (t) => {
    const [alice, bob] = await users(2);
    t.equal(await refusedWith(t, '/ws/status/'), 4401, 'no token');
    t.equal(await refusedWith(t, '/ws/status/', 'not-a-jwt'), 4401, 'bad token');
    t.equal(await refusedWith(t, '/ws/calls/', alice.refresh), 4401, 'a refresh token is not an access token');
    t.equal(await refusedWith(t, '/ws/messages/999999/', alice), 4404, 'unknown recipient');
    t.equal(await refusedWith(t, '/ws/messages/99999999999999/', alice), 4404, 'absurd id');
    t.equal(await refusedWith(t, '/ws/group/999999/', alice), 4404, 'unknown group');
    t.equal(await refusedWith(t, '/ws/nowhere/', alice), 4404, 'unknown path');
    const group = await alice.api.post('/api/groups/', { name: 'private-ish' });
    t.equal(group.status, 201);
    t.equal(await refusedWith(t, `/ws/group/${group.body.id}/`, bob), 4403, 'non-member');
    t.equal(await refusedWith(t, `/ws/group/${group.body.id}/`), 4401, 'unauthenticated beats forbidden');
  });

  t.test('the token travels in the header, ?token= or the bearer subprotocol; trailing slash optional', async (t) => {
    const alice = await user();
    for (const via of ['header', 'query', 'protocol'] as const) {
      const socket = await open(t, '/ws/status/', alice, { via });
      t.same(await ping(socket), { type: 'pong' }, via);
      if (via === 'protocol') t.equal(socket.protocol, `bearer.${alice.access}`, 'the bearer subprotocol is echoed');
    }
    const bare = await open(t, '/ws/status', alice, { via: 'query' });
    t.same(await ping(bare), { type: 'pong' });
  });

  t.test('malformed frames get an error frame and the socket stays open', async (t) => {
    const alice = await user();
    const socket = await open(t, '/ws/status/', alice);
    const cases: [string | Buffer, RegExp][] = [
      ['{not json', /Invalid JSON/],
      ['[1, 2]', /JSON object with a "type"/],
      ['{"kind": "ping"}', /JSON object with a "type"/],
      ['{"type": "dance"}', /Unknown message type "dance"/],
      ['{"type": "constructor"}', /Unknown message type/],
      [Buffer.from([1, 2, 3]), /JSON text/],
    ];
    for (const [raw, message] of cases) {
      socket.send(raw);
      const frame = await nextFrame(socket, ofType('error'));
      t.match(frame, { type: 'error', message }, String(raw));
    }
    t.same(await ping(socket), { type: 'pong' }, 'still open');
  });

  t.test('direct messages: sent over the socket or REST, delivered to both sides', async (t) => {
    const [alice, bob, carol] = await users(3);
    const aliceWs = await open(t, `/ws/messages/${bob.id}/`, alice);
    const bobWs = await open(t, `/ws/messages/${alice.id}`, bob);
    const carolWs = await open(t, `/ws/messages/${alice.id}/`, carol);

    sendJson(aliceWs, { type: 'message', content: 'Hello!' });
    const expected = { type: 'message', message_id: Number, sender_id: alice.id, sender_username: alice.username, receiver_id: bob.id, content: 'Hello!', created_at: ISO };
    const atBob = withoutSeq(t, await nextFrame(bobWs, ofType('message')));
    t.match(atBob, expected);
    t.same(Object.keys(atBob).sort(), ['content', 'created_at', 'message_id', 'receiver_id', 'sender_id', 'sender_username', 'type']);
    t.same(withoutSeq(t, await nextFrame(aliceWs, ofType('message'))), atBob, 'the sender sees its own message too');
    const stored = await bob.api.get(`/api/messages/${atBob.message_id}/`);
    t.equal(stored.body.content, 'Hello!', 'stored before it was delivered');

    const rest = await bob.api.post('/api/messages/', { receiver: alice.id, content: 'via REST' });
    t.equal(rest.status, 201);
    t.match(await nextFrame(aliceWs, ofType('message')), { message_id: rest.body.id, sender_id: bob.id, receiver_id: alice.id, content: 'via REST' });
    t.match(await nextFrame(bobWs, ofType('message')), { message_id: rest.body.id });

    // A retried send with the same client_id is stored and delivered once.
    sendJson(aliceWs, { type: 'message', content: 'once', client_id: 'c-1' });
    sendJson(aliceWs, { type: 'message', content: 'once', client_id: 'c-1' });
    sendJson(aliceWs, { type: 'message', content: 'after' });
    t.equal((await nextFrame(bobWs, ofType('message'))).content, 'once');
    t.equal((await nextFrame(bobWs, ofType('message'))).content, 'after', 'no duplicate in between');

    t.notOk((await framesBeforePong(carolWs)).some(ofType('message')), 'another conversation hears nothing');

    sendJson(aliceWs, { type: 'message' });
    t.same(await nextFrame(aliceWs, ofType('error')), { type: 'error', message: 'content: This field is required.' });
    sendJson(aliceWs, { type: 'message', content: '   ' });
    t.same(await nextFrame(aliceWs, ofType('error')), { type: 'error', message: 'content: This field may not be blank.' });
    sendJson(aliceWs, { type: 'message', content: 'x'.repeat(5001) });
    t.same(await nextFrame(aliceWs, ofType('error')), { type: 'error', message: 'content: Ensure this field has no more than 5000 characters.' });
    t.same(await ping(aliceWs), { type: 'pong' }, 'still open');

    const selfWs = await open(t, `/ws/messages/${alice.id}/`, alice);
    sendJson(selfWs, { type: 'message', content: 'me' });
    t.same(await nextFrame(selfWs, ofType('error')), { type: 'error', message: 'You cannot send a message to yourself.' });
  });

  t.test('a user renamed while connected sends under the new name', async (t) => {
    const [alice, bob] = await users(2);
    const group = (await alice.api.post('/api/groups/', { name: `renames ${alice.username}` })).body;
    t.equal((await bob.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    const aliceDm = await open(t, `/ws/messages/${bob.id}/`, alice);
    const bobDm = await open(t, `/ws/messages/${alice.id}/`, bob);
    const aliceGroup = await open(t, `/ws/group/${group.id}/`, alice);
    const bobGroup = await open(t, `/ws/group/${group.id}/`, bob);
    const renamed = `${alice.username}-new`;
    t.equal((await alice.api.patch(`/api/users/${alice.id}/`, { username: renamed })).status, 200);
    sendJson(aliceDm, { type: 'message', content: 'after the rename' });
    t.match(await nextFrame(bobDm, ofType('message')), { sender_id: alice.id, sender_username: renamed, content: 'after the rename' });
    sendJson(aliceGroup, { type: 'message', content: 'to the group' });
    t.match(await nextFrame(bobGroup, ofType('message')), { sender_id: alice.id, sender_username: renamed, content: 'to the group' });
    // The other side's name too: bob hears his own message with alice's new name as the receiver's.
    sendJson(bobDm, { type: 'message', content: 'reply' });
    const reply = await nextFrame(aliceDm, (f) => f.type === 'message' && f.content === 'reply');
    t.equal((await bob.api.get(`/api/messages/${reply.message_id}/`)).body.receiver_username, renamed);
  });

  t.test('group chat: members only, messages from socket and REST, joins and leaves', async (t) => {
    const [alice, bob] = await users(2);
    const group = (await alice.api.post('/api/groups/', { name: 'hikers' })).body;
    const aliceWs = await open(t, `/ws/group/${group.id}/`, alice);

    t.equal((await bob.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    t.same(withoutSeq(t, await nextFrame(aliceWs, ofType('member-joined'))), { type: 'member-joined', user_id: bob.id, username: bob.username });

    const bobWs = await open(t, `/ws/group/${group.id}`, bob);
    t.same(await nextFrame(aliceWs, ofType('user-joined')), { type: 'user-joined', user_id: bob.id, username: bob.username }, 'entering the room: live only, no seq');
    sendJson(bobWs, { type: 'message', content: 'Hello group!' });
    const expected = { type: 'message', message_id: Number, sender_id: bob.id, sender_username: bob.username, group_id: group.id, content: 'Hello group!', created_at: ISO };
    const atAlice = withoutSeq(t, await nextFrame(aliceWs, ofType('message')));
    t.match(atAlice, expected);
    t.same(Object.keys(atAlice).sort(), ['content', 'created_at', 'group_id', 'message_id', 'sender_id', 'sender_username', 'type']);
    t.same(withoutSeq(t, await nextFrame(bobWs, ofType('message'))), atAlice);

    const rest = await alice.api.post('/api/group-messages/', { group: group.id, content: 'via REST' });
    t.equal(rest.status, 201);
    t.match(await nextFrame(bobWs, ofType('message')), { message_id: rest.body.id, sender_id: alice.id, group_id: group.id, content: 'via REST' });

    sendJson(bobWs, { type: 'message', content: '' });
    t.same(await nextFrame(bobWs, ofType('error')), { type: 'error', message: 'content: This field may not be blank.' });

    const bobClosed = closeCode(bobWs);
    t.equal((await bob.api.post(`/api/groups/${group.id}/leave/`)).status, 200);
    t.same(withoutSeq(t, await nextFrame(aliceWs, ofType('member-left'))), { type: 'member-left', user_id: bob.id, username: bob.username });
    t.equal(await bobClosed, 4403, 'a member who left is cut off');
    t.same(await nextFrame(aliceWs, ofType('user-left')), { type: 'user-left', user_id: bob.id, username: bob.username }, 'and so leaves the live room');

    const aliceClosed = closeCode(aliceWs);
    t.equal((await alice.api.delete(`/api/groups/${group.id}/`)).status, 204);
    t.equal(await aliceClosed, 4404, 'a deleted group closes its sockets');
  });

  t.test("group room presence: a member's first connection in, their last one out, never told about themselves", async (t) => {
    const [alice, bob, carol] = await users(3);
    const group = (await alice.api.post('/api/groups/', { name: 'lobby' })).body;
    for (const who of [bob, carol]) t.equal((await who.api.post(`/api/groups/${group.id}/join/`)).status, 200);
    const room = `/ws/group/${group.id}/`;
    const about = (type: string, who: TestUser) => (f: Frame) => f.type === type && f.user_id === who.id;
    const aliceWs = await open(t, room, alice);

    const bobPhone = await open(t, room, bob);
    t.same(await nextFrame(aliceWs, ofType('user-joined')), { type: 'user-joined', user_id: bob.id, username: bob.username });
    const bobLaptop = await open(t, room, bob);
    const carolWs = await open(t, room, carol);
    t.match(await nextFrame(aliceWs, ofType('user-joined')), { user_id: carol.id }, "bob's second device is not announced: carol's arrival is next");
    // Alice's own arrival is announced asynchronously (to nobody, or, on a slow machine, to bob if he
    // is in by then): the checks below name whom each frame is about instead of relying on order.
    t.ok(await nextFrame(bobLaptop, about('user-joined', carol)), 'every connection of those present hears it');
    t.ok(await nextFrame(bobPhone, about('user-joined', carol)));
    // Each announcement reaches every connection of the room at once: what came before it is already buffered.
    t.same([...buffered(bobPhone, about('user-joined', bob)), ...buffered(bobLaptop, about('user-joined', bob))], [], 'bob heard nothing about himself');
    // Bob's arrival reached alice before carol connected, so carol cannot hear it late.
    t.same(buffered(carolWs, about('user-joined', bob)), [], 'who arrives is not told who was there (there is no such frame)');

    bobPhone.close();
    bobLaptop.close();
    t.match(await nextFrame(aliceWs, ofType('user-left')), { user_id: bob.id }, 'announced when the last connection closed');
    carolWs.close();
    t.match(await nextFrame(aliceWs, ofType('user-left')), { user_id: carol.id }, 'bob left once: carol is next');

    // Back in after being out: announced again.
    const bobAgain = await open(t, room, bob);
    t.match(await nextFrame(aliceWs, ofType('user-joined')), { user_id: bob.id });
    t.equal((await alice.api.get(`/api/groups/${group.id}/`)).body.members_count, 3, 'membership never changed');
    bobAgain.close();
    t.match(await nextFrame(aliceWs, ofType('user-left')), { user_id: bob.id });
  });

  t.test('status: ping/pong, and presence counted over every connection of a user', async (t) => {
    const [alice, carol] = await users(2);
    t.equal((await carol.api.post(`/api/users/${alice.id}/follow/`)).status, 200);
    const carolWs = await open(t, '/ws/status/', carol);
    t.same(await ping(carolWs), { type: 'pong' });

    const tab = await open(t, '/ws/status/', alice);
    t.same(await nextFrame(carolWs, ofType('presence')), { type: 'presence', user_id: alice.id, username: alice.username, is_online: true, last_seen: null });
    const phone = await open(t, '/ws/calls/', alice);
    t.equal((await alice.api.get(`/api/users/${alice.id}/`)).body.is_online, true);

    tab.close();
    t.equal(await closeCode(tab), 1005);
    t.equal((await alice.api.get(`/api/users/${alice.id}/`)).body.is_online, true);

    // Presence frames of a user arrive in order: had closing the tab announced her offline,
    // that frame (seen before the phone closed) would come first.
    const phoneClosedAt = Date.now();
    phone.close();
    const offline = await nextFrame(carolWs, ofType('presence'));
    t.match(offline, { type: 'presence', user_id: alice.id, username: alice.username, is_online: false, last_seen: ISO });
    t.ok(Date.parse(offline.last_seen) >= phoneClosedAt - 1, 'still online with one connection left: offline only once the last one closed');
    const profile = (await carol.api.get(`/api/users/${alice.id}/`)).body;
    t.equal(profile.is_online, false);
    t.equal(profile.last_seen, offline.last_seen);

  });

  t.test('calls: state frames, signaling between participants only', async (t) => {
    const [alice, bob, carol] = await users(3);
    const aliceWs = await open(t, '/ws/calls/', alice);
    const bobWs = await open(t, '/ws/calls', bob, { via: 'query' });
    const carolWs = await open(t, '/ws/calls/', carol);

    const started = await alice.api.post('/api/calls/', { receiver: bob.id, call_type: 'video' });
    t.equal(started.status, 201);
    const callId = started.body.id;
    t.same(withoutSeq(t, await nextFrame(bobWs, ofType('incoming_call'))), {
      type: 'incoming_call', call_id: callId, caller: { id: alice.id, username: alice.username, full_name: started.body.caller.full_name }, call_type: 'video',
    });
    t.notOk((await framesBeforePong(aliceWs)).some(ofType('incoming_call')), 'the caller is not rung');

    const sdp = 'v=0\r\no=- 123456 2 IN IP4 127.0.0.1\r\n';
    sendJson(aliceWs, { type: 'offer', call_id: callId, sdp });
    t.same(await nextFrame(bobWs, ofType('offer')), { type: 'offer', call_id: callId, from_user: alice.id, sdp }, 'an offer may go out while ringing');

    t.equal((await bob.api.post(`/api/calls/${callId}/accept/`)).status, 200);
    const accepted = { type: 'call_accepted', call_id: callId, user_id: bob.id };
    t.same(withoutSeq(t, await nextFrame(aliceWs, ofType('call_accepted'))), accepted);
    t.same(withoutSeq(t, await nextFrame(bobWs, ofType('call_accepted'))), accepted, "the actor's other devices hear it too");

    sendJson(bobWs, { type: 'answer', call_id: callId, sdp: 'v=0 answer' });
    t.same(await nextFrame(aliceWs, ofType('answer')), { type: 'answer', call_id: callId, from_user: bob.id, sdp: 'v=0 answer' });
    const candidate = 'candidate:1 1 UDP 2130706431 192.168.1.100 54321 typ host';
    sendJson(bobWs, { type: 'ice_candidate', call_id: callId, candidate, sdpMid: '0', sdpMLineIndex: 0 });
    t.same(await nextFrame(aliceWs, ofType('ice_candidate')), { type: 'ice_candidate', call_id: callId, from_user: bob.id, candidate, sdpMid: '0', sdpMLineIndex: 0 });
    sendJson(aliceWs, { type: 'ice_candidate', call_id: callId, candidate: '' });
    t.same(await nextFrame(bobWs, ofType('ice_candidate')), { type: 'ice_candidate', call_id: callId, from_user: alice.id, candidate: '', sdpMid: null, sdpMLineIndex: null }, 'end-of-candidates');

    const refused = { type: 'error', message: 'Call not found or unauthorized' };
    sendJson(carolWs, { type: 'offer', call_id: callId, sdp });
    t.same(await nextFrame(carolWs, ofType('error')), refused, 'a stranger cannot signal');
    sendJson(aliceWs, { type: 'offer', call_id: 999999, sdp });
    t.same(await nextFrame(aliceWs, ofType('error')), refused, 'unknown call');
    sendJson(aliceWs, { type: 'offer', call_id: callId });
    t.same(await nextFrame(aliceWs, ofType('error')), { type: 'error', message: 'sdp: This field is required.' });
    sendJson(aliceWs, { type: 'ice_candidate', call_id: 'abc', candidate: 'x' });
    t.same(await nextFrame(aliceWs, ofType('error')), { type: 'error', message: 'call_id: A valid integer is required.' });
    t.notOk((await framesBeforePong(carolWs)).some((f) => f.call_id === callId && f.type !== 'error'), 'strangers hear nothing of the call');

    t.equal((await alice.api.post(`/api/calls/${callId}/end/`)).status, 200);
    t.same(withoutSeq(t, await nextFrame(bobWs, ofType('call_ended'))), { type: 'call_ended', call_id: callId, user_id: alice.id });
    sendJson(bobWs, { type: 'answer', call_id: callId, sdp: 'late' });
    t.same(await nextFrame(bobWs, ofType('error')), refused, 'no signaling once the call is over');

    const second = (await bob.api.post('/api/calls/start/', { callee: alice.id, call_type: 'audio' })).body;
    t.match(await nextFrame(aliceWs, ofType('incoming_call')), { call_id: second.id, caller: { id: bob.id }, call_type: 'audio' });
    t.equal((await alice.api.post(`/api/calls/${second.id}/reject/`)).status, 200);
    t.same(withoutSeq(t, await nextFrame(bobWs, ofType('call_rejected'))), { type: 'call_rejected', call_id: second.id, user_id: alice.id });

    const third = (await alice.api.post('/api/calls/', { receiver_username: bob.username })).body;
    await nextFrame(bobWs, ofType('incoming_call'));
    t.equal((await alice.api.post(`/api/calls/${third.id}/end/`)).status, 200);
    t.same(withoutSeq(t, await nextFrame(bobWs, ofType('call_ended'))), { type: 'call_ended', call_id: third.id, user_id: alice.id }, 'a call hung up while ringing (missed) ends');
  });

  t.test('a ring that times out ends the call for both sides', async (t) => {
    const [alice, bob] = await users(2);
    const aliceWs = await open(t, '/ws/calls/', alice);
    const bobWs = await open(t, '/ws/calls/', bob);
    const call = (await alice.api.post('/api/calls/', { receiver: bob.id })).body;
    await nextFrame(bobWs, ofType('incoming_call'));
    const ended = { type: 'call_ended', call_id: call.id, user_id: bob.id };
    t.same(withoutSeq(t, await nextFrame(aliceWs, ofType('call_ended'), 4000)), ended, "the callee's silence ended it");
    t.same(withoutSeq(t, await nextFrame(bobWs, ofType('call_ended'))), ended);
  });

  t.test('revoked sessions close every socket of the user with 4401', async (t) => {
    const alice = await user();
    const sockets = [await open(t, '/ws/status/', alice), await open(t, '/ws/calls/', alice)];
    const codes = sockets.map((s) => closeCode(s));
    const changed = await alice.api.post('/api/users/change-password/', { old_password: alice.password, new_password: 'An0ther-Secret-Phrase' });
    t.equal(changed.status, 200);
    t.same(await Promise.all(codes), [4401, 4401]);
    t.equal(await refusedWith(t, '/ws/status/', alice), 4401, 'the old token no longer connects');
  });

  t.test('limits: frame rate and payload size', async (t) => {
    const alice = await user();
    const socket = await open(t, '/ws/status/', alice);
    for (let i = 0; i < 25; i++) sendJson(socket, { type: 'ping' });
    t.match(await nextFrame(socket, ofType('error')), { message: /Too many messages/ }, 'a burst over the limit is refused');
    await new Promise((resolve) => setTimeout(resolve, 2100));
    t.same(await ping(socket), { type: 'pong' }, 'and allowed again once calm');

    const flood = await open(t, '/ws/status/', alice);
    for (let i = 0; i < 100; i++) sendJson(flood, { type: 'ping' });
    t.equal(await closeCode(flood), 4429, 'persistent flooding closes the socket');

    const big = await open(t, '/ws/status/', alice);
    big.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(70 * 1024) }));
    t.equal(await closeCode(big), 1009, 'frames over 64 KB close the socket');
  });

  t.test('non-/ws upgrades are answered with 404', async (t) => {
    const alice = await user();
    await t.rejects(connectWs(wsUrl(server.url, '/api/users/'), alice.access), /404/);
  });

  // Last: it shuts the shared server down (its teardown's close() is then a no-op).
  t.test('shutting down closes open sockets with 1001 instead of hanging', async (t) => {
    const alice = await user();
    const socket = await open(t, '/ws/status/', alice);
    const started = Date.now();
    await server.close();
    t.equal(await closeCode(socket), 1001);
    t.ok(Date.now() - started < 3000, 'promptly');
  });
});
