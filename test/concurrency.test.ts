import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
t.test('concurrent writes', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const users = await Promise.all(Array.from({ length: 9 }, () => makeUser(api)));
  const [target, ...rest] = users;
  const res = await Promise.all(rest.map((u) => u.api.post(`/api/users/${target.id}/follow/`)));
  t.same(res.map((r) => r.status), rest.map(() => 200));
  const dms = await Promise.all(rest.flatMap((u) => [1, 2, 3].map((i) => u.api.post('/api/messages/', { receiver: target.id, content: `hi ${i}` }))));
  t.same(dms.map((r) => r.status), dms.map(() => 201));
  const t0 = Date.now();
  for (let i = 0; i < 50; i++) await rest[0].api.post('/api/messages/', { receiver: target.id, content: `seq ${i}` });
  t.comment(`sequential DM via REST: ${((Date.now() - t0) / 50).toFixed(1)} ms each`);
});
