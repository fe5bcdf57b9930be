/**
 * The HTTP layer's answers to clients that are wrong or hostile: unknown paths, NUL bytes,
 * bodies that lie about their encoding, stalled bodies; its security and CORS headers; what
 * the request log records; and the pruning of dead sessions.
 */
import net from 'node:net';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import t from 'tap';
import { Session } from '../src/models/index.js';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { connectWs, nextFrame, sendJson, wsUrl } from './helpers/ws.js';
import { capturingLogger } from './helpers/logs.js';

const NUL = 'Null characters are not allowed.';

t.test('unknown paths are real 404s, known paths with the wrong method 405s; the log records what was sent', async (t) => {
  const { logger, lines } = capturingLogger();
  const server = await startTestServer(t, { authRateLimit: 1 }, {}, logger);
  const api = new Api(server.url);
  for (const path of ['/api/nonexistent/', '/api/users/1/bogus/', '/jwt-secret', '/']) {
    const res = await api.get(path);
    t.equal(res.status, 404, path);
    t.same(res.body, { detail: 'Not found.' });
  }
  const wrong = await api.request('PUT', '/api/token/');
  t.equal(wrong.status, 405);
  t.equal(wrong.headers.get('allow'), 'POST');
  t.same(wrong.body, { detail: 'Method "PUT" not allowed.' });

  // Routes are grouped by their first segment (src/http/apiRouter.ts); together they answer as one router.
  const routed: [string, string, number, string | null][] = [
    ['GET', '/api', 404, null],
    ['GET', '/api/', 404, null],
    ['GET', '/apix/users/me/', 404, null],
    ['GET', '/api/users//me/', 404, null],
    ['GET', '/API/Users/me/', 401, null],
    ['GET', '/api/users', 401, null],
    ['OPTIONS', '/api/token/', 200, 'POST'],
    ['OPTIONS', '/api/users/me/', 200, 'HEAD, GET, PUT, PATCH, DELETE'],
    ['PUT', '/api/messages/conversations/', 405, 'HEAD, GET'],
  ];
  for (const [method, path, status, allow] of routed) {
    const res = await api.request(method, path);
    t.equal(res.status, status, `${method} ${path}`);
    t.equal(res.headers.get('allow'), allow, `${method} ${path}: Allow`);
  }

  // One request per status: each must be logged with the status the client got.
  const sent = [
    { status: 404, res: await api.get('/api/nope/') },
    { status: 401, res: await api.get('/api/users/me/') },
    { status: 401, res: await api.post('/api/token/', { username: 'nobody', password: 'whatever-1' }) },
    { status: 429, res: await api.post('/api/token/', { username: 'nobody', password: 'whatever-1' }) },
    { status: 400, res: await api.post('/api/users/register/', {}) },
    { status: 200, res: await api.get('/api/schema/') },
  ];
  const logged = lines.filter((l) => l.msg === 'request');
  const tail = logged.slice(-sent.length);
  t.same(tail.map((l) => l.status), sent.map((s) => s.res.status), 'the log has the statuses sent');
  t.same(sent.map((s) => s.res.status), sent.map((s) => s.status));
  t.ok(tail.every((l) => l.ip === '127.0.0.1'), 'and the client address');
});

t.test('NUL bytes in any text input are a 400 field error, on every route that reads text', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const alice = await makeUser(api);
  const bob = await makeUser(api);
  const group = await alice.api.post('/api/groups/', { name: 'nul group' });
  t.equal(group.status, 201);
  const cases: [string, Promise<{ status: number; body: any }>, string][] = [
    ['login', api.post('/api/users/login/', { username: `${alice.username}\0`, password: alice.password }), 'username'],
    ['login password', api.post('/api/users/login/', { username: alice.username, password: `${alice.password}\0` }), 'password'],
    ['token', api.post('/api/token/', { username: `\0${alice.username}`, password: alice.password }), 'username'],
    ['register', api.post('/api/users/register/', { username: 'nul', email: 'n@example.com', first_name: 'a\0b', password: 'Corr3ct-Horse-B', password_confirm: 'Corr3ct-Horse-B' }), 'first_name'],
    ['user search', alice.api.get('/api/users/?search=a%00b'), 'search'],
    ['with_user', alice.api.get(`/api/messages/with_user/?username=${bob.username}%00`), 'username'],
    ['DM receiver_username', alice.api.post('/api/messages/', { receiver_username: `${bob.username}\0`, content: 'hi' }), 'receiver_username'],
    ['DM client_id', alice.api.post('/api/messages/', { receiver: bob.id, content: 'hi', client_id: 'c\0' }), 'client_id'],
    ['DM content', alice.api.post('/api/messages/', { receiver: bob.id, content: 'h\0i' }), 'content'],
    ['group message client_id', alice.api.post('/api/group-messages/', { group: group.body.id, content: 'hi', client_id: 'g\0' }), 'client_id'],
    ['call receiver_username', alice.api.post('/api/calls/', { receiver_username: `${bob.username}\0`, call_type: 'audio' }), 'receiver_username'],
    ['post', alice.api.post('/api/posts/', { content: 'x\0' }), 'content'],
  ];
  for (const [name, pending, field] of cases) {
    const res = await pending;
    t.equal(res.status, 400, name);
    t.same(res.body, { [field]: [NUL] }, name);
  }
  t.same((await alice.api.get(`/api/messages/with_user/?user_id=${bob.id}`)).body, [], 'no message was stored');

  const socket = await connectWs(wsUrl(server.url, `/ws/messages/${bob.id}/`), alice.access);
  t.teardown(() => socket.close());
  sendJson(socket, { type: 'message', content: 'hi', client_id: 'w\0' });
  t.same(await nextFrame(socket, (f) => f.type === 'error'), { type: 'error', message: `client_id: ${NUL}` });
  // The socket still works: a good frame after the refused one is stored.
  sendJson(socket, { type: 'message', content: 'after', client_id: 'w1' });
  t.equal((await nextFrame(socket, (f) => f.type === 'message')).content, 'after');
  const stored = (await alice.api.get(`/api/messages/with_user/?user_id=${bob.id}`)).body;
  t.same(stored.map((m: { content: string }) => m.content), ['after']);
});

t.test('a body that is not what its Content-Encoding says is a 400; an unknown encoding a 415', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const user = await makeUser(api);
  const json = { 'Content-Type': 'application/json' };
  for (const encoding of ['gzip', 'deflate', 'br']) {
    const res = await api.request('POST', '/api/users/login/', '{"username": "x", "password": "y"}', { ...json, 'Content-Encoding': encoding });
    t.equal(res.status, 400, encoding);
    t.same(res.body, { detail: 'Request body does not match its Content-Encoding.' });
    const post = await user.api.request('POST', '/api/posts/', 'garbage', { ...json, 'Content-Encoding': encoding });
    t.equal(post.status, 400, `${encoding} on an authenticated route`);
  }
  const unknown = await api.request('POST', '/api/users/login/', '{}', { ...json, 'Content-Encoding': 'x-garbage' });
  t.equal(unknown.status, 415);
  // A body that is what it says still works.
  const body = zlib.gzipSync(JSON.stringify({ username: user.username, password: user.password }));
  const res = await fetch(`${server.url}/api/users/login/`, { method: 'POST', headers: { ...json, 'Content-Encoding': 'gzip' }, body });
  t.equal(res.status, 200);
});

t.test('security headers on the API and the docs page; the docs CSP admits exactly its inline script', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  for (const path of ['/api/schema/', '/api/nonexistent/', '/api/docs/']) {
    const res = await api.get(path);
    t.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
    t.equal(res.headers.get('x-frame-options'), 'DENY', path);
    t.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
    t.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/, path);
    t.notOk(res.headers.get('access-control-allow-origin'), `${path}: no CORS by default`);
  }
  const docs = await api.get('/api/docs/');
  const csp = docs.headers.get('content-security-policy')!;
  const script = /<script>([\s\S]*?)<\/script>/.exec(docs.body as string)![1];
  const style = /<style>([\s\S]*?)<\/style>/.exec(docs.body as string)![1];
  const hash = (text: string) => `'sha256-${crypto.createHash('sha256').update(text).digest('base64')}'`;
  t.match(csp, `script-src ${hash(script)}`);
  t.match(csp, `style-src ${hash(style)}`);
  t.match(csp, /connect-src 'self'/, 'the script may fetch the schema');
  t.notMatch(csp, /unsafe-inline/);
});

t.test('CORS answers only the configured origins', async (t) => {
  const server = await startTestServer(t, { corsOrigins: ['https://app.example'] });
  const preflight = (origin: string) =>
    fetch(`${server.url}/api/posts/`, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' } });
  const allowed = await preflight('https://app.example');
  t.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
  t.match(allowed.headers.get('access-control-allow-headers'), /Authorization/);
  t.match(allowed.headers.get('access-control-allow-methods'), /POST/);
  const other = await preflight('https://evil.example');
  t.notOk(other.headers.get('access-control-allow-origin'));
  const get = await fetch(`${server.url}/api/schema/`, { headers: { Origin: 'https://app.example' } });
  t.equal(get.headers.get('access-control-allow-origin'), 'https://app.example');
  t.match(get.headers.get('access-control-expose-headers'), /Retry-After/);
});

/** Resolves when the socket closes, or after `ms` (a server without timeouts would keep it open for minutes). */
const closedWithin = (socket: net.Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });

t.test('a stalled body gets the connection answered and closed within requestTimeout', async (t) => {
  const server = await startTestServer(t, { requestTimeoutSeconds: 1, headersTimeoutSeconds: 0.5 });
  const { port } = new URL(server.url);
  const started = Date.now();
  const socket = net.connect(Number(port), '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => (answer += d));
  socket.write('POST /api/users/login/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"username":');
  t.ok(await closedWithin(socket, 5000), `closed after ${Date.now() - started} ms`);
  socket.destroy();
  t.match(answer, /^HTTP\/1\.1 408/, 'with a 408');

  const slowHeaders = net.connect(Number(port), '127.0.0.1');
  let headersAnswer = '';
  slowHeaders.on('data', (d) => (headersAnswer += d));
  slowHeaders.write('GET /api/schema/ HTTP/1.1\r\nHost: x\r\n');
  t.ok(await closedWithin(slowHeaders, 5000), 'trickled headers are cut off too');
  slowHeaders.destroy();
  t.match(headersAnswer, /^HTTP\/1\.1 408/);
});

t.test('the server prunes expired and revoked sessions on a timer', async (t) => {
  // A revoked session is kept while access tokens issued for it may still be in use: a short TTL.
  const server = await startTestServer(t, { sessionPruneIntervalSeconds: 0.2, accessTokenTtlSeconds: 3 });
  const api = new Api(server.url);
  const user = await makeUser(api);
  const login = () => api.post('/api/users/login/', { username: user.username, password: user.password });
  const second = await login();
  const sessionOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sid as string;
  // Logged out with a token just issued, so that even a slow machine uses it within its TTL.
  const first = await login();
  const revoked = sessionOf(first.body.refresh);
  const live = sessionOf(second.body.refresh);
  t.equal((await api.as(first.body.access).post('/api/users/logout/', { refresh: first.body.refresh })).status, 200);
  const expired = crypto.randomUUID();
  await Session.create({ id: expired, userId: user.id, currentJti: crypto.randomUUID(), expiresAt: new Date(Date.now() - 1000) });
  const deadline = Date.now() + 10_000;
  while ((await Session.count({ where: { id: [revoked, expired] } })) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.equal(await Session.count({ where: { id: [revoked, expired] } }), 0, 'the revoked and the expired session are gone');
  t.equal(await Session.count({ where: { id: live } }), 1, 'the live one stays');
  t.equal((await api.post('/api/token/refresh/', { refresh: second.body.refresh })).status, 200, 'and still refreshes');
});
