/**
 * ETag / If-None-Match (src/http/middleware/conditionalGet.ts): a client that has the current
 * representation gets 304 with no body, whatever caching directives its HTTP stack adds; a
 * changed resource answers in full with a new ETag. Runs on SQLite, or PostgreSQL with JVAI_TEST_DATABASE_URL.
 */
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';

t.test('conditional GET', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const alice = await makeUser(api);
  const me = await alice.api.get('/api/users/me/');
  const etag = me.headers.get('etag') ?? '';
  t.match(etag, /^W\/"[^"]+"$/, 'a weak ETag');

  const get = (headers: Record<string, string>) => alice.api.request('GET', '/api/users/me/', undefined, headers);
  // fetch() sends Cache-Control: no-cache with any If-None-Match it is given; say so explicitly too.
  const unchanged = await get({ 'If-None-Match': etag, 'Cache-Control': 'no-cache' });
  t.equal(unchanged.status, 304, 'the current ETag: 304');
  t.notOk(unchanged.body, 'with no body');
  t.equal((await get({ 'If-None-Match': `"other", ${etag.slice(2)}` })).status, 304, 'one of a list, compared weakly');
  t.equal((await get({ 'If-None-Match': '*' })).status, 304, '* matches any current representation');
  t.equal((await get({ 'If-None-Match': 'W/"other"' })).status, 200, 'another ETag: the body');

  t.equal((await alice.api.patch(`/api/users/${alice.id}/`, { bio: 'changed' })).status, 200);
  const changed = await get({ 'If-None-Match': etag });
  t.equal(changed.status, 200, 'after a change: the body');
  t.equal(changed.body.bio, 'changed');
  t.not(changed.headers.get('etag'), etag, 'with a new ETag');

  t.notOk((await alice.api.post('/api/posts/', { content: 'hi' })).headers.get('etag'), 'writes carry no ETag');
});
