/** Concurrent writers: every acknowledged write is stored, once, and each sender's order holds. */
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';

t.test('concurrent writes', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const users = await Promise.all(Array.from({ length: 9 }, () => makeUser(api)));
  const [target, ...rest] = users;
  /** What `from` sent `target`, oldest first, as the target reads it. */
  const received = async (from: TestUser): Promise<string[]> => {
    const res = await target.api.get(`/api/messages/with_user/?user_id=${from.id}&limit=200`);
    t.equal(res.status, 200);
    return (res.body as { sender: number; content: string }[]).filter((m) => m.sender === from.id).map((m) => m.content);
  };

  const res = await Promise.all(rest.map((u) => u.api.post(`/api/users/${target.id}/follow/`)));
  t.same(res.map((r) => r.status), rest.map(() => 200));
  t.equal((await target.api.get(`/api/users/${target.id}/`)).body.followers_count, rest.length, 'every concurrent follow counted once');

  const dms = await Promise.all(rest.flatMap((u) => [1, 2, 3].map((i) => u.api.post('/api/messages/', { receiver: target.id, content: `hi ${u.id}.${i}` }))));
  t.same(dms.map((r) => r.status), dms.map(() => 201));
  t.same(new Set(dms.map((r) => r.body.id)).size, dms.length, 'distinct ids');
  for (const u of rest) t.same((await received(u)).sort(), [1, 2, 3].map((i) => `hi ${u.id}.${i}`), `all three of ${u.username} stored, once`);

  const t0 = Date.now();
  for (let i = 0; i < 50; i++) t.equal((await rest[0].api.post('/api/messages/', { receiver: target.id, content: `seq ${i}` })).status, 201);
  t.comment(`sequential DM via REST: ${((Date.now() - t0) / 50).toFixed(1)} ms each`);
  const sequential = (await received(rest[0])).filter((c) => c.startsWith('seq '));
  t.same(sequential, Array.from({ length: 50 }, (_, i) => `seq ${i}`), 'the 50 sequential DMs, all stored, in order');
});
