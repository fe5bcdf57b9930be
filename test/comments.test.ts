import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';

t.test('comments', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const alice = await makeUser(api, { first_name: 'Alice', last_name: 'Liddell' });
  const bob = await makeUser(api);
  const post = (await bob.api.post('/api/posts/', { content: 'discuss' })).body;
  const ids = (res: { body: { id: number }[] }) => res.body.map((c) => c.id);

  t.test('create', async (t) => {
    const res = await alice.api.post('/api/comments/', { post: post.id, content: '  Great post!  ' });
    t.equal(res.status, 201);
    t.same(Object.keys(res.body).sort(), ['author', 'author_details', 'author_username', 'content', 'created_at', 'id', 'likes_count', 'post', 'updated_at', 'user_liked']);
    t.match(res.body, {
      id: Number,
      post: post.id,
      author: alice.id,
      author_username: alice.username,
      author_details: { id: alice.id, username: alice.username, full_name: 'Alice Liddell', profile_picture: null },
      content: 'Great post!',
      likes_count: 0,
      user_liked: false,
    });
    t.match(res.body.created_at, /Z$/);
    const seen = (await bob.api.get(`/api/posts/${post.id}/`)).body;
    t.equal(seen.comments_count, 1);
    t.same(seen.comments, [res.body]);
  });

  t.test('create validation', async (t) => {
    const before = (await bob.api.get(`/api/posts/${post.id}/`)).body.comments_count;
    t.same((await alice.api.post('/api/comments/', { post: 999999, content: 'x' })).body, { post: ['Invalid pk "999999" - object does not exist.'] });
    t.same((await alice.api.post('/api/comments/', { post: 'abc', content: 'x' })).body, { post: ['A valid integer is required.'] });
    t.same((await alice.api.post('/api/comments/', {})).body, { post: ['This field is required.'], content: ['This field is required.'] });
    t.same((await alice.api.post('/api/comments/', { post: post.id, content: '   ' })).body, { content: ['This field may not be blank.'] });
    t.same((await alice.api.post('/api/comments/', { post: post.id, content: 'x'.repeat(5001) })).body, { content: ['Ensure this field has no more than 5000 characters.'] });
    const bad = await alice.api.post('/api/comments/', { post: post.id });
    t.equal(bad.status, 400);
    t.equal((await api.post('/api/comments/', { post: post.id, content: 'anon' })).status, 401);
    t.equal((await bob.api.get(`/api/posts/${post.id}/`)).body.comments_count, before, 'nothing was written');
    const form = new FormData();
    form.append('post', String(post.id));
    form.append('content', 'from a form');
    const fromForm = await alice.api.post('/api/comments/', form);
    t.equal(fromForm.status, 201, 'multipart works as in DRF');
    t.equal(fromForm.body.content, 'from a form');
  });

  t.test('list by post: newest first, paginated', async (t) => {
    const p = (await bob.api.post('/api/posts/', { content: 'thread' })).body;
    const made: number[] = [];
    for (let i = 0; i < 5; i++) made.unshift((await (i % 2 ? alice : bob).api.post('/api/comments/', { post: p.id, content: `c${i}` })).body.id);
    const all = await alice.api.get(`/api/comments/?post_id=${p.id}`);
    t.equal(all.status, 200);
    t.same(ids(all), made);
    t.equal(all.headers.get('link'), null);

    const first = await alice.api.get(`/api/comments/?post_id=${p.id}&limit=2`);
    t.same(ids(first), made.slice(0, 2));
    const link = first.headers.get('link')!;
    t.match(link, new RegExp(`before=${made[1]}>; rel="next"$`));
    const second = await alice.api.get(link.slice(1, link.indexOf('>')).slice(server.url.length));
    t.same(ids(second), made.slice(2, 4));

    t.same((await alice.api.get('/api/comments/')).body, { post_id: ['This field is required.'] });
    t.same((await alice.api.get('/api/comments/?post_id=abc')).body, { post_id: ['A valid integer is required.'] });
    const unknown = await alice.api.get('/api/comments/?post_id=999999');
    t.equal(unknown.status, 200, 'an unknown post has no comments, as with a DRF filter');
    t.same(unknown.body, []);
    t.equal((await api.get(`/api/comments/?post_id=${p.id}`)).status, 401);
  });

  t.test('get one', async (t) => {
    const c = (await alice.api.post('/api/comments/', { post: post.id, content: 'hello' })).body;
    const res = await bob.api.get(`/api/comments/${c.id}/`);
    t.equal(res.status, 200);
    t.same(res.body, c);
    t.same((await bob.api.get('/api/comments/999999/')).body, { detail: 'Not found.' });
    t.equal((await bob.api.get('/api/comments/abc/')).status, 404);
    t.equal((await api.get(`/api/comments/${c.id}/`)).status, 401);
  });

  t.test('update: owner only', async (t) => {
    const c = (await alice.api.post('/api/comments/', { post: post.id, content: 'tpyo' })).body;
    await new Promise((r) => setTimeout(r, 5));
    const patched = await alice.api.patch(`/api/comments/${c.id}/`, { content: 'typo' });
    t.equal(patched.status, 200);
    t.equal(patched.body.content, 'typo');
    t.equal(patched.body.post, post.id);
    t.not(patched.body.updated_at, c.updated_at);
    t.equal(patched.body.created_at, c.created_at);

    t.same((await bob.api.patch(`/api/comments/${c.id}/`, { content: 'mine now' })).body, { detail: 'You do not have permission to perform this action.' });
    t.equal((await bob.api.put(`/api/comments/${c.id}/`, { content: 'mine now' })).status, 403);
    t.equal((await alice.api.patch('/api/comments/999999/', { content: 'x' })).status, 404);
    t.equal((await api.patch(`/api/comments/${c.id}/`, { content: 'x' })).status, 401);
    t.same((await alice.api.patch(`/api/comments/${c.id}/`, { content: '' })).body, { content: ['This field may not be blank.'] });
    t.same((await alice.api.put(`/api/comments/${c.id}/`, {})).body, { content: ['This field is required.'] });
    const put = await alice.api.put(`/api/comments/${c.id}/`, { content: 'rewritten' });
    t.equal(put.status, 200);
    t.equal(put.body.content, 'rewritten');
    t.equal((await bob.api.get(`/api/comments/${c.id}/`)).body.content, 'rewritten');
  });

  t.test('delete: owner only', async (t) => {
    const c = (await alice.api.post('/api/comments/', { post: post.id, content: 'oops' })).body;
    const count = (await bob.api.get(`/api/posts/${post.id}/`)).body.comments_count;
    t.equal((await bob.api.delete(`/api/comments/${c.id}/`)).status, 403, 'not even the post author');
    t.equal((await api.delete(`/api/comments/${c.id}/`)).status, 401);
    t.equal((await alice.api.delete('/api/comments/999999/')).status, 404);
    const res = await alice.api.delete(`/api/comments/${c.id}/`);
    t.equal(res.status, 204);
    t.equal(res.body, null);
    t.equal((await alice.api.get(`/api/comments/${c.id}/`)).status, 404);
    t.equal((await bob.api.get(`/api/posts/${post.id}/`)).body.comments_count, count - 1);
  });

  t.test('likes toggle; counts and user_liked per viewer', async (t) => {
    const c = (await bob.api.post('/api/comments/', { post: post.id, content: 'like me' })).body;
    const like = await alice.api.post(`/api/comments/${c.id}/like/`);
    t.equal(like.status, 200);
    t.same(like.body, { message: 'Comment liked', liked: true });
    t.match((await alice.api.get(`/api/comments/${c.id}/`)).body, { likes_count: 1, user_liked: true });
    t.match((await bob.api.get(`/api/comments/${c.id}/`)).body, { likes_count: 1, user_liked: false });
    const listed = (await bob.api.get(`/api/comments/?post_id=${post.id}`)).body.find((x: { id: number }) => x.id === c.id);
    t.match(listed, { likes_count: 1, user_liked: false });
    t.same((await alice.api.post(`/api/comments/${c.id}/like`)).body, { message: 'Comment unliked', liked: false });
    t.match((await alice.api.get(`/api/comments/${c.id}/`)).body, { likes_count: 0, user_liked: false });
    t.equal((await alice.api.post('/api/comments/999999/like/')).status, 404);
    t.equal((await api.post(`/api/comments/${c.id}/like/`)).status, 401);

    const both = await Promise.all([alice.api.post(`/api/comments/${c.id}/like/`), alice.api.post(`/api/comments/${c.id}/like/`)]);
    t.same(both.map((r) => r.status), [200, 200], 'a double like never fails');
  });

  t.test("deleting a post removes its comments", async (t) => {
    const p = (await bob.api.post('/api/posts/', { content: 'doomed' })).body;
    const c = (await alice.api.post('/api/comments/', { post: p.id, content: 'bye' })).body;
    await alice.api.post(`/api/comments/${c.id}/like/`);
    t.equal((await bob.api.delete(`/api/posts/${p.id}/`)).status, 204);
    t.equal((await alice.api.get(`/api/comments/${c.id}/`)).status, 404);
    t.same((await alice.api.get(`/api/comments/?post_id=${p.id}`)).body, []);
  });
});
