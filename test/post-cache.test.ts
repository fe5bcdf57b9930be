/**
 * Posts are rendered once and cached (src/presenters/postTexts.ts): every change to what a
 * rendering shows is visible on the very next read — post edits, likes, comments (added, edited,
 * liked, deleted), author profile changes, deletions, and changes made by another process
 * (`jvai admin users delete`). Each check reads the feed, the list and the detail view, so each
 * has a warm cache to go stale. Runs on SQLite, or PostgreSQL with JVAI_TEST_DATABASE_URL.
 * Needs `npm run build` (the admin CLI).
 */
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { form, pngBytes } from './helpers/images.js';
import { runJvai } from './helpers/serve.js';
import { sqlOf } from '../src/db/connection.js';

t.test('cached post renderings never go stale', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const [alice, bob, carol] = await Promise.all([makeUser(api), makeUser(api), makeUser(api)]);
  t.equal((await bob.api.post(`/api/users/${alice.id}/follow/`)).status, 200);
  const post = (await alice.api.post('/api/posts/', { content: 'first version' })).body;

  /** What each user last read at each path: its ETag and body. */
  const last = new Map<string, { etag: string; body: unknown }>();
  /**
   * Reads `path` as a client with a cache would: sending the ETag it has. A 304 must mean the
   * body is the one it has (checked against a plain read), and the new ETag answers 304 at once.
   */
  const conditional = async (who: TestUser, path: string) => {
    const key = `${who.username} ${path}`;
    const known = last.get(key);
    const res = await who.api.request('GET', path, undefined, known ? { 'If-None-Match': known.etag } : {});
    const current = res.status === 304 ? await who.api.get(path) : res;
    if (res.status === 304) t.same(current.body, known?.body, `${path}: 304 only while the body is unchanged`);
    if (current.status !== 200) return current;
    const etag = current.headers.get('etag') ?? '';
    t.match(etag, /^W\/"/, `${path} has a weak ETag`);
    t.equal((await who.api.request('GET', path, undefined, { 'If-None-Match': etag })).status, 304, `${path}: its own ETag gets 304`);
    last.set(key, { etag, body: current.body });
    return current;
  };

  /** The post as `who` sees it in the feed, in the list of every post and in its detail view: all three must agree. */
  const seen = async (who: TestUser) => {
    const [feed, list, detail] = await Promise.all(['/api/posts/feed/', '/api/posts/', `/api/posts/${post.id}/`].map((path) => conditional(who, path)));
    const inFeed = feed.body.find((p: { id: number }) => p.id === post.id);
    const inList = list.body.find((p: { id: number }) => p.id === post.id);
    t.same(inList, inFeed, 'the list shows what the feed shows');
    t.same(detail.status === 200 ? detail.body : undefined, inFeed, 'the detail view shows what the feed shows');
    return inFeed;
  };

  t.match(await seen(bob), { content: 'first version', likes_count: 0, user_liked: false, comments: [] });

  t.equal((await alice.api.patch(`/api/posts/${post.id}/`, { content: 'second version' })).status, 200);
  t.match(await seen(bob), { content: 'second version' }, 'an edit');

  // A save that changes nothing still stamps updated_at, which the post's JSON shows.
  const before = (await seen(bob)).updated_at;
  await new Promise((resolve) => setTimeout(resolve, 5));
  const resaved = await alice.api.patch(`/api/posts/${post.id}/`, {});
  t.equal(resaved.status, 200);
  t.not(resaved.body.updated_at, before);
  t.match(await seen(bob), { updated_at: resaved.body.updated_at }, 'a save that changed nothing but updated_at');

  t.equal((await bob.api.post(`/api/posts/${post.id}/like/`)).status, 200);
  t.match(await seen(bob), { likes_count: 1, user_liked: true }, 'a like, with the liker flagged');
  t.match(await seen(alice), { likes_count: 1, user_liked: false }, 'the same rendering, flagged per viewer');

  const comment = (await carol.api.post('/api/comments/', { post: post.id, content: 'nice' })).body;
  t.match(await seen(bob), { comments_count: 1, comments: [{ id: comment.id, content: 'nice', likes_count: 0, user_liked: false }] }, 'a comment');

  t.equal((await carol.api.patch(`/api/comments/${comment.id}/`, { content: 'very nice' })).status, 200);
  t.match(await seen(bob), { comments_count: 1, comments: [{ content: 'very nice' }] }, 'an edited comment (the count unchanged)');

  t.equal((await bob.api.post(`/api/comments/${comment.id}/like/`)).status, 200);
  t.match(await seen(bob), { comments: [{ likes_count: 1, user_liked: true }] }, 'a liked comment');
  t.match(await seen(alice), { comments: [{ likes_count: 1, user_liked: false }] });
  // Two viewers alike but for one comment's like (neither likes the post now): pages are shared by bytes, never by viewer.
  t.equal((await bob.api.post(`/api/posts/${post.id}/like/`)).body.liked, false);
  t.match(await seen(bob), { likes_count: 0, user_liked: false, comments: [{ user_liked: true }] });
  t.match(await seen(alice), { likes_count: 0, user_liked: false, comments: [{ user_liked: false }] }, "one viewer's flags never reach another");
  t.match(await seen(bob), { comments: [{ user_liked: true }] });
  t.equal((await bob.api.post(`/api/posts/${post.id}/like/`)).body.liked, true);

  // The post's likers change places, its counter stays as it was: only the viewer's flag tells.
  const swap = async (from: TestUser, to: TestUser) => {
    t.equal((await from.api.post(`/api/posts/${post.id}/like/`)).body.liked, false);
    t.equal((await to.api.post(`/api/posts/${post.id}/like/`)).body.liked, true);
  };
  await swap(bob, carol);
  t.match(await seen(bob), { likes_count: 1, user_liked: false }, "the viewer's flag alone changed");
  await swap(carol, bob);
  t.match(await seen(bob), { likes_count: 1, user_liked: true }, 'and back');

  const renamed = `${carol.username}x`;
  t.equal((await carol.api.patch(`/api/users/${carol.id}/`, { username: renamed, first_name: 'Caroline' })).status, 200);
  t.match(await seen(bob), { comments: [{ author_username: renamed, author_details: { username: renamed, full_name: /^Caroline / } }] }, "a commenter's new name");

  const picture = await alice.api.patch(`/api/users/${alice.id}/`, form({}, { field: 'profile_picture', bytes: await pngBytes(), name: 'me.png', type: 'image/png' }));
  t.equal(picture.status, 200);
  t.match(await seen(bob), { author_details: { profile_picture: picture.body.profile_picture } }, "the author's new picture");

  // Deleted and written again: the same count, another comment (and on SQLite possibly the same id).
  t.equal((await carol.api.delete(`/api/comments/${comment.id}/`)).status, 204);
  t.match(await seen(bob), { comments_count: 0, comments: [] }, 'a deleted comment');
  const again = (await carol.api.post('/api/comments/', { post: post.id, content: 'said again' })).body;
  t.match(await seen(bob), { comments_count: 1, comments: [{ id: again.id, content: 'said again', likes_count: 0, user_liked: false }] });

  t.test('a change by another process: `jvai admin users delete`', async (t) => {
    const env: NodeJS.ProcessEnv = { ...process.env, JVAI_DATA_DIR: server.dataDir };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JVAI_CONFIG']) delete env[name];
    const { config } = server.app.services.deps;
    if (config.databaseUrl) env.DATABASE_URL = config.databaseUrl;
    t.equal((await carol.api.post(`/api/posts/${post.id}/like/`)).status, 200);
    t.match(await seen(bob), { likes_count: 2, comments_count: 1 });
    const res = await runJvai(['admin', 'users', 'delete', renamed, '--yes'], { env, cwd: server.dataDir });
    t.equal(res.code, 0, res.stderr);
    t.match(await seen(bob), { likes_count: 1, comments_count: 0, comments: [] }, "the deleted user's like and comment are gone at once");
  });

  t.test('an edit that leaves updated_at as it was (two edits in one millisecond, or by hand)', async (t) => {
    t.match(await seen(bob), { content: 'second version' });
    await sqlOf(server.app.services.deps.sequelize).write((tx) => tx.run('UPDATE posts SET content = ? WHERE id = ?', ['edited by hand', post.id]));
    t.match(await seen(bob), { content: 'edited by hand' });
  });

  t.test('a deleted post', async (t) => {
    t.equal((await alice.api.delete(`/api/posts/${post.id}/`)).status, 204);
    t.equal(await seen(bob), undefined, 'gone from the feed and the list');
    t.equal((await bob.api.get(`/api/posts/${post.id}/`)).status, 404);
  });
});
