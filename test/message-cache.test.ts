/**
 * DM and group message lists render each message once (src/presenters/rowTexts.ts): a message's
 * read state and its users' names — what can change — show on the very next read of every list,
 * and the lists' ETags follow. Runs on SQLite, or PostgreSQL with JVAI_TEST_DATABASE_URL.
 */
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';

t.test('cached DM renderings never go stale', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const [alice, bob] = await Promise.all([makeUser(api), makeUser(api)]);
  const sent = await alice.api.post('/api/messages/', { receiver: bob.id, content: 'hello' });
  t.equal(sent.status, 201);

  const etags = new Map<string, string>();
  /** The message as `who` sees it in both lists; a 304 to the ETag held only if the body is unchanged. */
  const seen = async (who: TestUser, other: TestUser) => {
    const views = [];
    for (const path of ['/api/messages/', `/api/messages/with_user/?user_id=${other.id}`, '/api/messages/conversations/']) {
      const key = `${who.username} ${path}`;
      const known = etags.get(key);
      const conditional = await who.api.request('GET', path, undefined, known ? { 'If-None-Match': known } : {});
      const res = await who.api.get(path);
      t.equal(res.status, 200);
      const etag = res.headers.get('etag') ?? '';
      t.equal(conditional.status, etag === known ? 304 : 200, `${path}: 304 exactly when the ETag held is current`);
      t.equal((await who.api.request('GET', path, undefined, { 'If-None-Match': etag })).status, 304);
      etags.set(key, etag);
      views.push(path.includes('conversations') ? res.body.find((c: { user: { id: number } }) => c.user.id === other.id) : res.body.find((m: { id: number }) => m.id === sent.body.id));
    }
    const conversation = views.pop();
    t.same(views[1], views[0], 'both lists show the same message');
    t.same(conversation.last_message, views[0], 'and so does the conversation, as its last message');
    t.match(conversation.user, { id: other.id, username: other.username });
    t.same(views[0], (await who.api.get(`/api/messages/${sent.body.id}/`)).body, 'as the message itself shows');
    return views[0];
  };

  t.match(await seen(bob, alice), { content: 'hello', is_read: false, read_at: null, sender_username: alice.username });
  const before = await seen(bob, alice);
  t.same(before, await seen(bob, alice), 'unchanged: the same bytes');

  t.equal((await bob.api.post(`/api/messages/${sent.body.id}/mark_as_read/`)).status, 200);
  t.match(await seen(bob, alice), { is_read: true, read_at: /^\d{4}-/ }, 'read');
  t.match(await seen(alice, bob), { is_read: true }, 'read, as the sender sees it');

  const renamed = `${alice.username}x`;
  t.equal((await alice.api.patch(`/api/users/${alice.id}/`, { username: renamed })).status, 200);
  alice.username = renamed;
  t.match(await seen(bob, alice), { sender_username: renamed }, "the sender's new name");
  const bobRenamed = `${bob.username}y`;
  t.equal((await bob.api.patch(`/api/users/${bob.id}/`, { username: bobRenamed })).status, 200);
  bob.username = bobRenamed;
  t.match(await seen(alice, bob), { sender_username: renamed, receiver_username: bobRenamed }, "the receiver's new name");
  t.match(await seen(bob, alice), { sender_username: renamed, receiver_username: bobRenamed }, 'my own new name, in my own lists');

  // A conversation also shows its partner's presence and the unread count, written per request:
  // each change answers a client holding the previous ETag in full.
  let etag = '';
  const conversation = async () => {
    const res = await bob.api.request('GET', '/api/messages/conversations/', undefined, etag ? { 'If-None-Match': etag } : {});
    t.equal(res.status, 200, 'a change: not 304');
    etag = res.headers.get('etag') ?? '';
    return res.body.find((c: { user: { id: number } }) => c.user.id === alice.id);
  };
  t.equal((await conversation()).unread_count, 0);
  t.equal((await alice.api.post('/api/messages/', { receiver: bob.id, content: 'again' })).status, 201);
  t.match(await conversation(), { unread_count: 1, last_message: { content: 'again', is_read: false } }, 'a new message');
  t.equal((await alice.api.post('/api/users/set-online/')).status, 200);
  t.match(await conversation(), { unread_count: 1, user: { is_online: true } }, "the partner's presence");
  t.equal((await alice.api.post('/api/users/set-offline/')).status, 200);
  t.match(await conversation(), { user: { is_online: false, last_seen: /^\d{4}-/ } });

  // Pages of one size and of another hold the same rows and the look-ahead one: each its own size.
  const carol = await makeUser(api);
  t.equal((await carol.api.post('/api/messages/', { receiver: bob.id, content: 'me too' })).status, 201);
  const sized = async (limit: number) => (await bob.api.get(`/api/messages/conversations/?limit=${limit}`)).body.map((c: { user: { id: number } }) => c.user.id);
  t.same(await sized(2), [carol.id, alice.id]);
  t.same(await sized(1), [carol.id]);
  t.same(await sized(2), [carol.id, alice.id]);

  // A page sent again as it was kept still links the page after it.
  const link = async () => (await bob.api.get('/api/messages/conversations/?limit=1')).headers.get('link');
  const first = await link();
  t.match(first, /[?&]before=\d+.*rel="next"/);
  t.equal(await link(), first, 'read again: the same link');
});

t.test('cached group message renderings show the sender as they are now', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const [alice, bob] = await Promise.all([makeUser(api), makeUser(api)]);
  const group = (await alice.api.post('/api/groups/', { name: 'cached' })).body;
  t.equal((await bob.api.post(`/api/groups/${group.id}/join/`)).status, 200);
  const sent = await alice.api.post('/api/group-messages/', { group: group.id, content: 'hi all' });
  t.equal(sent.status, 201);

  const etags: string[] = [];
  /** The message in both lists, as bob sees it; a change answers the ETags held in full. */
  const seen = async (changed: boolean) => {
    const paths = ['/api/group-messages/', `/api/group-messages/group_messages/?group_id=${group.id}`];
    const views = [];
    for (const [i, path] of paths.entries()) {
      const res = await bob.api.request('GET', path, undefined, etags[i] ? { 'If-None-Match': etags[i] } : {});
      t.equal(res.status, changed ? 200 : 304, `${path}: ${changed ? 'changed, in full' : 'unchanged, 304'}`);
      const body = res.status === 200 ? res.body : (await bob.api.get(path)).body;
      etags[i] = res.status === 200 ? (res.headers.get('etag') ?? '') : etags[i];
      views.push(body.find((m: { id: number }) => m.id === sent.body.id));
    }
    t.same(views[1], views[0], 'both lists show the same message');
    t.same(views[0], sent.body, 'as it was sent');
    return views[0];
  };

  await seen(true);
  await seen(false);
  const renamed = `${alice.username}x`;
  t.equal((await alice.api.patch(`/api/users/${alice.id}/`, { username: renamed })).status, 200);
  sent.body.sender_username = renamed;
  t.match(await seen(true), { sender_username: renamed }, "the sender's new name");
});
