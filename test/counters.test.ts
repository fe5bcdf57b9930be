/**
 * Stored counters and home timelines (kept by triggers) against the source rows they stand for:
 * under concurrent writes, through cascading deletes, and after `jvai admin recount` repairs
 * them. The recount step drives the compiled CLI (`npm run build` first).
 */
import t from 'tap';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { runJvai } from './helpers/serve.js';
import { sqlOf } from '../src/db/connection.js';
import { num } from '../src/db/sql.js';

t.setTimeout(300_000);

/** A stored counter beside a COUNT(*) of the rows it counts. */
async function counter(server: TestServer, stored: string, actual: string, id: number): Promise<{ stored: number; actual: number }> {
  const row = await sqlOf(server.sequelize).read.get<{ stored: unknown; actual: unknown }>(`SELECT (${stored}) AS stored, (${actual}) AS actual`, [id, id]);
  return { stored: num(row?.stored), actual: num(row?.actual) };
}

const postLikes = (server: TestServer, id: number) =>
  counter(server, 'SELECT likes_count FROM posts WHERE id = ?', 'SELECT COUNT(*) FROM post_likes WHERE post_id = ?', id);
const postComments = (server: TestServer, id: number) =>
  counter(server, 'SELECT comments_count FROM posts WHERE id = ?', 'SELECT COUNT(*) FROM comments WHERE post_id = ?', id);
const commentLikes = (server: TestServer, id: number) =>
  counter(server, 'SELECT likes_count FROM comments WHERE id = ?', 'SELECT COUNT(*) FROM comment_likes WHERE comment_id = ?', id);
const followers = (server: TestServer, id: number) =>
  counter(server, 'SELECT followers_count FROM users WHERE id = ?', 'SELECT COUNT(*) FROM follows WHERE following_id = ?', id);
const following = (server: TestServer, id: number) =>
  counter(server, 'SELECT following_count FROM users WHERE id = ?', 'SELECT COUNT(*) FROM follows WHERE follower_id = ?', id);
const members = (server: TestServer, id: number) =>
  counter(server, 'SELECT members_count FROM social_groups WHERE id = ?', 'SELECT COUNT(*) FROM group_members WHERE group_id = ?', id);

const feedIds = async (user: TestUser, query = ''): Promise<number[]> => {
  const res = await user.api.get(`/api/posts/feed/${query}`);
  if (res.status !== 200) throw new Error(`feed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.map((p: { id: number }) => p.id);
};

const post = async (user: TestUser, content: string): Promise<number> => {
  const res = await user.api.post('/api/posts/', { content });
  if (res.status !== 201) throw new Error(`post: ${res.status}`);
  return res.body.id;
};

t.test('stored counters and home timelines', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const crowd = await Promise.all(Array.from({ length: 30 }, () => makeUser(api)));
  const [alice, bob, carol] = crowd;

  t.test('30 concurrent like toggles, some of them racing for the same user', async (t) => {
    const postId = await post(alice, 'like me');
    const toggles = await Promise.all(crowd.map((u) => u.api.post(`/api/posts/${postId}/like/`)));
    t.ok(toggles.every((r) => r.status === 200 && r.body.liked === true), 'every first toggle likes');
    t.same(await postLikes(server, postId), { stored: 30, actual: 30 });
    t.equal((await alice.api.get(`/api/posts/${postId}/`)).body.likes_count, 30);

    // Each user now toggles three times at once: who ends up liking is a race, the count is not.
    await Promise.all(crowd.flatMap((u) => [1, 2, 3].map(() => u.api.post(`/api/posts/${postId}/like/`))));
    const after = await postLikes(server, postId);
    t.equal(after.stored, after.actual, 'likes_count equals the like rows after racing toggles');
    t.equal((await alice.api.get(`/api/posts/${postId}/`)).body.likes_count, after.actual);

    const unlikes = await Promise.all(crowd.map(async (u) => ((await u.api.get(`/api/posts/${postId}/`)).body.user_liked ? u.api.post(`/api/posts/${postId}/like/`) : null)));
    t.ok(unlikes.every((r) => r === null || r.body.liked === false));
    t.same(await postLikes(server, postId), { stored: 0, actual: 0 });
  });

  t.test('comment likes and comments counts, through concurrent writes and deletes', async (t) => {
    const postId = await post(alice, 'discuss');
    const created = await Promise.all(crowd.slice(0, 10).map((u, i) => u.api.post('/api/comments/', { post: postId, content: `c${i}` })));
    t.ok(created.every((r) => r.status === 201));
    t.same(await postComments(server, postId), { stored: 10, actual: 10 });

    const commentId = created[0].body.id;
    await Promise.all(crowd.map((u) => u.api.post(`/api/comments/${commentId}/like/`)));
    t.same(await commentLikes(server, commentId), { stored: 30, actual: 30 });
    const shown = await bob.api.get(`/api/comments/${commentId}/`);
    t.match(shown.body, { likes_count: 30, user_liked: true });
    // Created concurrently: any of the ten may have the lowest id.
    const nested = (await bob.api.get(`/api/posts/${postId}/`)).body.comments.find((c: { id: number }) => c.id === commentId);
    t.match(nested, { likes_count: 30, user_liked: true }, 'the nested comment shows the same');

    t.equal((await crowd[1].api.delete(`/api/comments/${created[1].body.id}/`)).status, 204);
    t.same(await postComments(server, postId), { stored: 9, actual: 9 });
    t.equal((await bob.api.get(`/api/posts/${postId}/`)).body.comments_count, 9);
  });

  t.test('follows: concurrent follows, unfollows, repeated follows', async (t) => {
    const star = crowd[29];
    const fans = crowd.slice(3, 23);
    await Promise.all(fans.flatMap((u) => [u.api.post(`/api/users/${star.id}/follow/`), u.api.post(`/api/users/${star.id}/follow/`)]));
    t.same(await followers(server, star.id), { stored: 20, actual: 20 }, 'following twice counts once');
    t.same(await following(server, fans[0].id), { stored: 1, actual: 1 });
    t.match((await carol.api.get(`/api/users/${star.id}/`)).body, { followers_count: 20, following_count: 0, is_following: false });

    await Promise.all(fans.slice(0, 5).map((u) => u.api.post(`/api/users/${star.id}/unfollow/`)));
    t.same(await followers(server, star.id), { stored: 15, actual: 15 });
    t.same(await following(server, fans[0].id), { stored: 0, actual: 0 });
    t.match((await fans[5].api.get(`/api/users/${star.id}/`)).body, { followers_count: 15, is_following: true });
  });

  t.test('the feed: backfilled on follow, emptied on unfollow, new and deleted posts', async (t) => {
    const [writer, reader] = await Promise.all([makeUser(api), makeUser(api)]);
    const older = [await post(writer, 'one'), await post(writer, 'two'), await post(writer, 'three')];
    const own = await post(reader, 'mine');
    t.same(await feedIds(reader), [own], 'only my own post before following');

    await reader.api.post(`/api/users/${writer.id}/follow/`);
    t.same(await feedIds(reader), [own, ...older].sort((a, b) => b - a), "the followee's earlier posts are backfilled");

    const fresh = await post(writer, 'four');
    t.same((await feedIds(reader))[0], fresh, "a followee's new post is on top");
    t.same(await feedIds(reader, `?limit=2&before=${fresh}`), [own, older[2]], 'pages walk the timeline');

    t.equal((await writer.api.delete(`/api/posts/${older[1]}/`)).status, 204);
    t.notOk((await feedIds(reader)).includes(older[1]), 'a deleted post leaves every feed');

    await reader.api.post(`/api/users/${writer.id}/unfollow/`);
    t.same(await feedIds(reader), [own], 'unfollowing removes their posts and keeps mine');
  });

  t.test('groups: members_count through joins, leaves and concurrent joins', async (t) => {
    const group = (await alice.api.post('/api/groups/', { name: 'counted' })).body;
    t.equal(group.members_count, 1);
    const joins = await Promise.all(crowd.slice(1, 21).map((u) => u.api.post(`/api/groups/${group.id}/join/`)));
    t.ok(joins.every((r) => r.status === 200 || r.status === 201));
    t.same(await members(server, group.id), { stored: 21, actual: 21 });
    await Promise.all(crowd.slice(1, 6).map((u) => u.api.post(`/api/groups/${group.id}/leave/`)));
    t.same(await members(server, group.id), { stored: 16, actual: 16 });
    t.equal((await bob.api.get(`/api/groups/${group.id}/`)).body.members_count, 16);
  });

  t.test('deleting a post, then a user: every counter follows the cascades', async (t) => {
    const [doomed, target] = await Promise.all([makeUser(api), makeUser(api)]);
    const targetPost = await post(target, 'target');
    const doomedPost = await post(doomed, 'doomed');
    const comment = (await doomed.api.post('/api/comments/', { post: targetPost, content: 'bye' })).body.id;
    const otherComment = (await target.api.post('/api/comments/', { post: targetPost, content: 'hi' })).body.id;
    await doomed.api.post(`/api/posts/${targetPost}/like/`);
    await doomed.api.post(`/api/comments/${otherComment}/like/`);
    await doomed.api.post(`/api/users/${target.id}/follow/`);
    await target.api.post(`/api/users/${doomed.id}/follow/`);
    await target.api.post(`/api/posts/${doomedPost}/like/`);
    const group = (await target.api.post('/api/groups/', { name: 'cascade' })).body;
    await doomed.api.post(`/api/groups/${group.id}/join/`);
    t.same(await postComments(server, targetPost), { stored: 2, actual: 2 });
    t.same(await members(server, group.id), { stored: 2, actual: 2 });

    // A post goes: its likes and comments go with it; its author's other counters stay.
    t.equal((await doomed.api.delete(`/api/posts/${doomedPost}/`)).status, 204);
    t.same(await postLikes(server, doomedPost), { stored: 0, actual: 0 });
    t.notOk((await feedIds(target)).includes(doomedPost));

    t.equal((await doomed.api.delete(`/api/users/${doomed.id}/`)).status, 204);
    t.same(await postLikes(server, targetPost), { stored: 0, actual: 0 }, 'their like is gone');
    t.same(await postComments(server, targetPost), { stored: 1, actual: 1 }, 'their comment is gone');
    t.same(await commentLikes(server, otherComment), { stored: 0, actual: 0 }, 'their comment like is gone');
    t.same(await followers(server, target.id), { stored: 0, actual: 0 }, 'their follow is gone');
    t.same(await following(server, target.id), { stored: 0, actual: 0 }, 'the follow of them is gone');
    t.same(await members(server, group.id), { stored: 1, actual: 1 }, 'their membership is gone');
    t.match((await target.api.get(`/api/posts/${targetPost}/`)).body, { likes_count: 0, comments_count: 1 });
    t.equal((await target.api.get(`/api/comments/${comment}/`)).status, 404);
  });

  t.test('jvai admin recount repairs corrupted counters and timelines', async (t) => {
    const [writer, reader] = await Promise.all([makeUser(api), makeUser(api)]);
    const postId = await post(writer, 'recount me');
    await reader.api.post(`/api/posts/${postId}/like/`);
    await reader.api.post(`/api/users/${writer.id}/follow/`);
    const group = (await writer.api.post('/api/groups/', { name: 'recount' })).body;

    const sql = sqlOf(server.sequelize);
    await sql.write(async (tx) => {
      await tx.run('UPDATE posts SET likes_count = 999, comments_count = 7 WHERE id = ?', [postId]);
      await tx.run('UPDATE users SET followers_count = 42 WHERE id = ?', [writer.id]);
      await tx.run('UPDATE social_groups SET members_count = 0 WHERE id = ?', [group.id]);
      await tx.run('DELETE FROM home_timeline WHERE user_id = ?', [reader.id]);
    });
    t.match((await reader.api.get(`/api/posts/${postId}/`)).body, { likes_count: 999 }, 'the corruption shows');
    t.same(await feedIds(reader), []);

    const env: NodeJS.ProcessEnv = { ...process.env, JVAI_DATA_DIR: server.dataDir };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JVAI_CONFIG']) delete env[name];
    const databaseUrl = server.app.services.deps.config.databaseUrl;
    if (databaseUrl) env.DATABASE_URL = databaseUrl;
    const run = await runJvai(['admin', 'recount'], { env, cwd: server.dataDir });
    t.equal(run.code, 0, `recount succeeds${run.code ? `: ${run.stderr}` : ''}`);
    t.match(run.stdout, /^Recounted followers and following of \d+ users, likes and comments of \d+ posts, likes of \d+ comments, members of \d+ groups; rebuilt \d+ home timeline rows and \d+ conversation summar(y|ies); refreshed planner statistics \(\d+ ms\)\.$/m);

    t.match((await reader.api.get(`/api/posts/${postId}/`)).body, { likes_count: 1, comments_count: 0, user_liked: true });
    t.match((await reader.api.get(`/api/users/${writer.id}/`)).body, { followers_count: 1, is_following: true });
    t.equal((await reader.api.get(`/api/groups/${group.id}/`)).body.members_count, 1);
    t.ok((await feedIds(reader)).includes(postId), 'the feed is rebuilt');
  });
});
