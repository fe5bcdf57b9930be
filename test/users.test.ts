import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { form, pngBytes } from './helpers/images.js';

t.test('users', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const alice = await makeUser(api, { first_name: 'Alice', last_name: 'Liddell' });
  const bob = await makeUser(api, { first_name: 'Bob', last_name: 'Builder' });

  t.test('me, get, email privacy, unknown ids', async (t) => {
    const me = await alice.api.get('/api/users/me/');
    t.equal(me.status, 200);
    t.match(me.body, { id: alice.id, username: alice.username, email: alice.email, full_name: 'Alice Liddell', followers_count: 0, following_count: 0, is_following: false });
    const other = await bob.api.get(`/api/users/${alice.id}/`);
    t.equal(other.status, 200);
    t.equal(other.body.email, null, 'email is shown only to its owner');
    t.equal((await bob.api.get('/api/users/999999/')).status, 404);
    t.same((await bob.api.get('/api/users/abc/')).body, { detail: 'Not found.' });
    t.equal((await bob.api.get(`/api/users/${alice.id}`)).status, 200, 'trailing slash is optional');
    t.equal((await api.get(`/api/users/${alice.id}/`)).status, 401);
    const wrongMethod = await bob.api.request('POST', '/api/users/me/');
    t.equal(wrongMethod.status, 405);
    t.same(wrongMethod.body, { detail: 'Method "POST" not allowed.' });
  });

  t.test('list, search, pagination', async (t) => {
    const all = await alice.api.get('/api/users/');
    t.equal(all.status, 200);
    t.ok(Array.isArray(all.body));
    t.ok(all.body[0].id > all.body[all.body.length - 1].id, 'newest first');
    const found = await alice.api.get('/api/users/?search=builder');
    t.same(found.body.map((u: { id: number }) => u.id), [bob.id]);
    t.same((await alice.api.get('/api/users/?search=%25')).body, [], 'search is literal, % is no wildcard');
    const page = await alice.api.get('/api/users/?limit=1');
    t.equal(page.body.length, 1);
    const link = page.headers.get('link')!;
    t.match(link, /rel="next"/);
    const next = await alice.api.get(new URL(/<([^>]+)>/.exec(link)![1]).pathname + new URL(/<([^>]+)>/.exec(link)![1]).search);
    t.equal(next.body.length, 1);
    t.ok(next.body[0].id < page.body[0].id);
    t.equal((await alice.api.get('/api/users/?limit=0')).status, 400);
    t.equal((await alice.api.get('/api/users/?limit=500')).status, 400);
  });

  t.test('update: own profile only; PUT and PATCH', async (t) => {
    const patch = await alice.api.patch(`/api/users/${alice.id}/`, { bio: 'I love coding!', first_name: 'Alicia' });
    t.equal(patch.status, 200);
    t.match(patch.body, { bio: 'I love coding!', first_name: 'Alicia', full_name: 'Alicia Liddell' });
    const put = await alice.api.put(`/api/users/${alice.id}/`, { first_name: 'Updated', last_name: 'Name', email: 'updated@example.com' });
    t.equal(put.status, 200);
    t.match(put.body, { email: 'updated@example.com', full_name: 'Updated Name' });
    const putMissing = await alice.api.put(`/api/users/${alice.id}/`, { first_name: 'X' });
    t.equal(putMissing.status, 400);
    t.same(putMissing.body.email, ['This field is required.']);
    t.equal((await bob.api.patch(`/api/users/${alice.id}/`, { bio: 'hacked' })).status, 403);
    const taken = await alice.api.patch(`/api/users/${alice.id}/`, { username: bob.username.toUpperCase() });
    t.equal(taken.status, 400);
    t.ok(taken.body.username);
    t.equal((await alice.api.patch(`/api/users/${alice.id}/`, { email: 'not-an-email' })).status, 400);
    const me = await alice.api.get('/api/users/me/');
    t.equal(me.body.bio, 'I love coding!', 'refused updates changed nothing');
  });

  t.test('profile picture upload', async (t) => {
    const res = await alice.api.patch(`/api/users/${alice.id}/`, form({ bio: 'with picture' }, { field: 'profile_picture', bytes: await pngBytes(), name: 'me.png', type: 'image/png' }));
    t.equal(res.status, 200);
    t.match(res.body.profile_picture, new RegExp(`^${server.url}/media/avatars/[0-9a-f]{32}\\.png$`));
    const img = await fetch(res.body.profile_picture);
    t.equal(img.status, 200);
    t.equal(img.headers.get('content-type'), 'image/png');
    const first = res.body.profile_picture as string;
    const again = await alice.api.patch(`/api/users/${alice.id}/`, form({}, { field: 'profile_picture', bytes: await pngBytes(4, 4), name: 'me2.png' }));
    t.not(again.body.profile_picture, first);
    t.equal((await fetch(first)).status, 404, 'the replaced picture is removed');
    const notImage = await alice.api.patch(`/api/users/${alice.id}/`, form({}, { field: 'profile_picture', bytes: Buffer.from('hello'), name: 'x.png', type: 'image/png' }));
    t.equal(notImage.status, 415);
  });

  t.test('follow, unfollow, followers, following', async (t) => {
    const f = await alice.api.post(`/api/users/${bob.id}/follow/`);
    t.equal(f.status, 200);
    t.same(f.body, { message: `Now following ${bob.username}` });
    t.equal((await alice.api.post(`/api/users/${bob.id}/follow/`)).status, 200, 'following twice is idempotent');
    t.equal((await alice.api.post(`/api/users/${alice.id}/follow/`)).status, 400);
    t.equal((await alice.api.post('/api/users/999999/follow/')).status, 404);
    const viewed = await alice.api.get(`/api/users/${bob.id}/`);
    t.match(viewed.body, { followers_count: 1, following_count: 0, is_following: true });
    t.same((await bob.api.get(`/api/users/${bob.id}/followers/`)).body.map((u: { id: number }) => u.id), [alice.id]);
    t.same((await bob.api.get(`/api/users/${alice.id}/following/`)).body.map((u: { id: number }) => u.id), [bob.id]);
    t.equal((await bob.api.get('/api/users/999999/followers/')).status, 404);
    const dave = await makeUser(api);
    await dave.api.post(`/api/users/${bob.id}/follow/`);
    const first = await bob.api.get(`/api/users/${bob.id}/followers/?limit=1`);
    t.same(first.body.map((u: { id: number }) => u.id), [dave.id]);
    const second = await bob.api.get(`/api/users/${bob.id}/followers/?limit=1&before=${dave.id}`);
    t.same(second.body.map((u: { id: number }) => u.id), [alice.id], 'the cursor pages through followers');
    await dave.api.post(`/api/users/${bob.id}/unfollow/`);
    const u = await alice.api.post(`/api/users/${bob.id}/unfollow/`);
    t.same(u.body, { message: `Unfollowed ${bob.username}` });
    t.equal((await alice.api.get(`/api/users/${bob.id}/`)).body.followers_count, 0);
  });

  t.test('online, set-online, set-offline', async (t) => {
    t.same((await bob.api.post('/api/users/set-online/')).body, { status: 'online' });
    const online = await alice.api.get('/api/users/online/');
    t.ok(online.body.some((u: { id: number; is_online: boolean }) => u.id === bob.id && u.is_online));
    t.same((await bob.api.post('/api/users/set-offline/')).body, { status: 'offline' });
    const after = await alice.api.get(`/api/users/${bob.id}/`);
    t.equal(after.body.is_online, false);
    t.type(after.body.last_seen, 'string');
    t.ok(!(await alice.api.get('/api/users/online/')).body.some((u: { id: number }) => u.id === bob.id));
  });

  t.test('delete: own account only, removes content and files, revokes tokens', async (t) => {
    const carol = await makeUser(api);
    const pic = await carol.api.patch(`/api/users/${carol.id}/`, form({}, { field: 'profile_picture', bytes: await pngBytes(), name: 'c.png' }));
    const file = path.join(server.dataDir, 'media', new URL(pic.body.profile_picture).pathname.replace('/media/', ''));
    t.ok(fs.existsSync(file));
    await alice.api.post(`/api/users/${carol.id}/follow/`);
    t.equal((await alice.api.delete(`/api/users/${carol.id}/`)).status, 403);
    const del = await carol.api.delete(`/api/users/${carol.id}/`);
    t.equal(del.status, 204);
    t.equal(del.body, null);
    t.equal((await alice.api.get(`/api/users/${carol.id}/`)).status, 404);
    t.notOk(fs.existsSync(file), 'the profile picture is gone');
    t.equal((await carol.api.get('/api/users/me/')).status, 401);
    t.equal((await alice.api.get('/api/users/me/')).body.following_count, 0, 'follows went with the account');
  });
});
