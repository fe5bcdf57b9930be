import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import type { DirectMessagePayload } from '../src/events/types.js';
import { sqlOf } from '../src/db/connection.js';
import { planOf, statementsDuring } from './helpers/plans.js';

t.test('direct messages', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const alice = await makeUser(api);
  const bob = await makeUser(api);
  const carol = await makeUser(api);
  const events: { name: string; message: DirectMessagePayload }[] = [];
  t.teardown(server.bus.subscribe('dm.created', ({ message }) => events.push({ name: 'dm.created', message })));
  t.teardown(server.bus.subscribe('dm.read', ({ message }) => events.push({ name: 'dm.read', message })));
  const send = (from: TestUser, body: Record<string, unknown>) => from.api.post('/api/messages/', body);

  t.test('send by receiver id or username', async (t) => {
    events.length = 0;
    const byId = await send(alice, { receiver: bob.id, content: 'Hey! How are you?' });
    t.equal(byId.status, 201);
    t.same(Object.keys(byId.body).sort(), ['content', 'created_at', 'id', 'is_read', 'read_at', 'receiver', 'receiver_username', 'sender', 'sender_username']);
    t.match(byId.body, { sender: alice.id, sender_username: alice.username, receiver: bob.id, receiver_username: bob.username, content: 'Hey! How are you?', is_read: false, read_at: null });
    t.match(byId.body.created_at, /Z$/);
    t.same(events, [{ name: 'dm.created', message: byId.body }]);
    const byName = await send(bob, { receiver_username: alice.username.toUpperCase(), content: 'Fine, thanks' });
    t.equal(byName.status, 201);
    t.match(byName.body, { sender: bob.id, receiver: alice.id });
  });

  t.test('send validation', async (t) => {
    t.same((await send(alice, { content: 'to nobody' })).body, { non_field_errors: ['Either receiver or receiver_username is required.'] });
    t.same((await send(alice, { receiver: alice.id, content: 'me' })).body, { non_field_errors: ['You cannot send a message to yourself.'] });
    t.same((await send(alice, { receiver: 999999, content: 'x' })).body, { receiver: ['Invalid pk "999999" - object does not exist.'] });
    t.same((await send(alice, { receiver_username: 'no_such_user', content: 'x' })).body, { receiver_username: ['User not found.'] });
    t.same((await send(alice, { receiver: 'abc', content: 'x' })).body, { receiver: ['A valid integer is required.'] });
    t.same((await send(alice, { receiver: bob.id })).body, { content: ['This field is required.'] });
    t.same((await send(alice, { receiver: bob.id, content: '  ' })).body, { content: ['This field may not be blank.'] });
    t.equal((await send(alice, { receiver: bob.id, content: 'x'.repeat(5001) })).status, 400);
    t.equal((await api.post('/api/messages/', { receiver: bob.id, content: 'anon' })).status, 401);
  });

  t.test('client_id makes a retried send idempotent', async (t) => {
    events.length = 0;
    const first = await send(alice, { receiver: bob.id, content: 'once', client_id: 'c-1' });
    const retry = await send(alice, { receiver: bob.id, content: 'once', client_id: 'c-1' });
    t.equal(first.status, 201);
    t.equal(retry.status, 201);
    t.equal(retry.body.id, first.body.id);
    t.equal(events.length, 1, 'announced once');
    const racing = await Promise.all([1, 2, 3].map(() => send(alice, { receiver: bob.id, content: 'race', client_id: 'c-2' })));
    t.same(racing.map((r) => r.status), [201, 201, 201]);
    t.equal(new Set(racing.map((r) => r.body.id)).size, 1, 'concurrent retries share one row');
    const withBob = (await alice.api.get(`/api/messages/with_user/?user_id=${bob.id}`)).body as DirectMessagePayload[];
    t.equal(withBob.filter((m) => m.content === 'once').length, 1);
    t.equal(withBob.filter((m) => m.content === 'race').length, 1);
    const otherSender = await send(bob, { receiver: alice.id, content: 'same client id, other sender', client_id: 'c-1' });
    t.not(otherSender.body.id, first.body.id, 'client ids are per sender');
  });

  t.test('client ids are indexed only where given: messages without one write no entry there', async (t) => {
    const sql = sqlOf(server.sequelize);
    const name = 'direct_messages_sender_id_client_id_given';
    const definition =
      sql.dialect === 'sqlite'
        ? (await sql.read.get<{ sql: string }>('SELECT sql FROM sqlite_master WHERE name = ?', [name]))?.sql
        : (await sql.read.get<{ indexdef: string }>('SELECT indexdef FROM pg_indexes WHERE indexname = ?', [name]))?.indexdef;
    t.match(definition, /UNIQUE INDEX .*\(sender_id, client_id\) WHERE \(?client_id IS NOT NULL\)?/i, String(definition));
    const plain = await Promise.all([1, 2].map(() => send(alice, { receiver: bob.id, content: 'no client id' })));
    t.same(plain.map((r) => r.status), [201, 201]);
    t.not(plain[0].body.id, plain[1].body.id, 'two sends without a client id are two messages');
  });

  t.test('list, get and mark as read', async (t) => {
    const msg = (await send(carol, { receiver: bob.id, content: 'hi bob' })).body;
    const list = await bob.api.get('/api/messages/');
    t.equal(list.status, 200);
    t.equal(list.body[0].id, msg.id, 'newest first');
    t.ok(list.body.some((m: DirectMessagePayload) => m.sender === bob.id), 'sent ones too');
    t.notOk((await alice.api.get('/api/messages/')).body.some((m: DirectMessagePayload) => m.id === msg.id), 'not other people’s');

    t.same((await bob.api.get(`/api/messages/${msg.id}/`)).body, msg);
    t.equal((await carol.api.get(`/api/messages/${msg.id}/`)).status, 200);
    t.equal((await alice.api.get(`/api/messages/${msg.id}/`)).status, 404);
    t.equal((await bob.api.get('/api/messages/999999/')).status, 404);

    t.equal((await carol.api.post(`/api/messages/${msg.id}/mark_as_read/`)).status, 403, 'not the sender');
    t.equal((await alice.api.post(`/api/messages/${msg.id}/mark_as_read/`)).status, 404, 'not a stranger');
    t.equal((await api.post(`/api/messages/${msg.id}/mark_as_read/`)).status, 401);
    t.equal((await bob.api.post('/api/messages/999999/mark_as_read/')).status, 404);
    events.length = 0;
    const read = await bob.api.post(`/api/messages/${msg.id}/mark_as_read/`);
    t.equal(read.status, 200);
    t.match(read.body, { id: msg.id, is_read: true, read_at: /Z$/ });
    t.same(events, [{ name: 'dm.read', message: read.body }]);
    const again = await bob.api.post(`/api/messages/${msg.id}/mark_as_read/`);
    t.same(again.body, read.body, 'idempotent: read_at kept');
    t.equal(events.length, 1, 'announced once');
  });

  t.test('conversations: most recent first, unread counts', async (t) => {
    const dave = await makeUser(api);
    const erin = await makeUser(api);
    const frank = await makeUser(api);
    await send(erin, { receiver: dave.id, content: 'e1' });
    await send(erin, { receiver: dave.id, content: 'e2' });
    const f1 = (await send(frank, { receiver: dave.id, content: 'f1' })).body;
    await send(dave, { receiver: erin.id, content: 'reply to erin' });
    await dave.api.post(`/api/messages/${f1.id}/mark_as_read/`);

    const res = await dave.api.get('/api/messages/conversations/');
    t.equal(res.status, 200);
    t.same(res.body.map((c: { user: { id: number } }) => c.user.id), [erin.id, frank.id]);
    t.match(res.body[0], {
      user: { id: erin.id, username: erin.username, full_name: String, profile_picture: null, is_online: false },
      last_message: { content: 'reply to erin', sender: dave.id, receiver: erin.id },
      unread_count: 2,
    });
    t.match(res.body[1], { user: { id: frank.id }, last_message: { id: f1.id, is_read: true }, unread_count: 0 });
    t.same((await erin.api.get('/api/messages/conversations/')).body.map((c: { unread_count: number }) => c.unread_count), [1]);

    const page1 = await dave.api.get('/api/messages/conversations/?limit=1');
    t.same(page1.body.map((c: { user: { id: number } }) => c.user.id), [erin.id]);
    const next = page1.headers.get('link')?.match(/<([^>]+)>/)?.[1];
    t.ok(next);
    const page2 = await dave.api.get(new URL(next as string).pathname + new URL(next as string).search);
    t.same(page2.body.map((c: { user: { id: number } }) => c.user.id), [frank.id]);
    t.equal(page2.headers.get('link'), null);
    t.equal((await api.get('/api/messages/conversations/')).status, 401);
  });

  t.test("conversations: a page sorts only the actor's summary rows, found by the primary key, and joins only the page's", async (t) => {
    const sql = sqlOf(server.sequelize);
    const seen = await statementsDuring(t, sql, 'dm_conversations', () => alice.api.get('/api/messages/conversations/?limit=2&before=999999'));
    t.equal(seen.length, 1, 'one statement');
    t.match(seen[0].text, /FROM \(SELECT [^()]* FROM dm_conversations WHERE user_id = \?[^()]*LIMIT[^()]*\) c/, 'the page is picked before the joins');
    const plan = await planOf(sql, seen[0]);
    t.match(plan, /sqlite_autoindex_dm_conversations_1 \(user_id=\?\)|dm_conversations_pkey/, plan);
    t.notMatch(plan, /SCAN dm_conversations|Seq Scan/, plan);
  });

  t.test('with_user: chronological, paged backwards', async (t) => {
    const gina = await makeUser(api);
    const hank = await makeUser(api);
    const ids: number[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await send(i % 2 ? gina : hank, i % 2 ? { receiver: hank.id, content: `m${i}` } : { receiver_username: gina.username, content: `m${i}` })).body.id);
    await send(gina, { receiver: alice.id, content: 'elsewhere' });

    const all = await gina.api.get(`/api/messages/with_user/?user_id=${hank.id}`);
    t.equal(all.status, 200);
    t.same(all.body.map((m: DirectMessagePayload) => m.content), ['m1', 'm2', 'm3', 'm4', 'm5'], 'oldest first');
    t.same((await hank.api.get(`/api/messages/with_user/?username=${gina.username}`)).body.map((m: DirectMessagePayload) => m.id), ids);

    const latest = await gina.api.get(`/api/messages/with_user/?user_id=${hank.id}&limit=2`);
    t.same(latest.body.map((m: DirectMessagePayload) => m.content), ['m4', 'm5'], 'the newest page, in order');
    t.match(latest.headers.get('link'), new RegExp(`before=${ids[3]}`));
    const older = await gina.api.get(`/api/messages/with_user/?user_id=${hank.id}&limit=2&before=${ids[3]}`);
    t.same(older.body.map((m: DirectMessagePayload) => m.content), ['m2', 'm3']);
    const oldest = await gina.api.get(`/api/messages/with_user/?user_id=${hank.id}&limit=2&before=${ids[1]}`);
    t.same(oldest.body.map((m: DirectMessagePayload) => m.content), ['m1']);
    t.equal(oldest.headers.get('link'), null);

    t.same((await gina.api.get('/api/messages/with_user/')).body, { non_field_errors: ['Either user_id or username is required.'] });
    t.equal((await gina.api.get('/api/messages/with_user/?user_id=999999')).status, 404);
    t.equal((await gina.api.get('/api/messages/with_user/?username=no_such_user')).status, 404);
    t.equal((await gina.api.get('/api/messages/with_user/?user_id=abc')).status, 400);
    t.same((await carol.api.get(`/api/messages/with_user/?user_id=${hank.id}`)).body, [], 'only your own conversation');
    t.equal((await api.get(`/api/messages/with_user/?user_id=${hank.id}`)).status, 401);
  });

  t.test("with_user: one walk down the pair's index, with no sort, so a page costs the same however long the conversation", async (t) => {
    const sql = sqlOf(server.sequelize);
    const seen = await statementsDuring(t, sql, 'direct_messages', () => alice.api.get(`/api/messages/with_user/?user_id=${bob.id}&limit=2&before=999999`));
    t.equal(seen.length, 1, 'one statement');
    const plan = await planOf(sql, seen[0]);
    t.match(plan, /direct_messages_pair_id/, plan);
    t.notMatch(plan, /TEMP B-TREE|Sort/, plan);
  });
});
