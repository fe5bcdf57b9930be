/**
 * Who the client is: X-Forwarded-* count only from a configured proxy (trustProxy), so a client
 * can neither pick its rate-limit address nor the host of absolute URLs; and failed logins are
 * throttled per account, whatever the address.
 */
import t from 'tap';
import { startTestServer, startTestServers } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { REDIS_URL, redisAvailable } from './helpers/redis.js';
import { capturingLogger } from './helpers/logs.js';
import { form, pngBytes } from './helpers/images.js';

const guess = (api: Api, forwardedFor: string, body = { username: 'victim', password: 'guess-123456' }) =>
  api.request('POST', '/api/token/', JSON.stringify(body), { 'Content-Type': 'application/json', 'X-Forwarded-For': forwardedFor });

/** The `rel="next"` link of a page: an absolute URL built from the request. */
async function nextLink(api: Api, headers: Record<string, string>): Promise<string> {
  const res = await api.request('GET', '/api/users/?limit=1', undefined, headers);
  return /<([^>]+)>; rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? '';
}

/** The absolute `image` URL of a new post with a picture, as the API builds it for this request. */
async function imageUrl(api: Api, headers: Record<string, string>): Promise<string> {
  const body = form({ content: 'pic' }, { field: 'image', bytes: await pngBytes(), name: 'p.png', type: 'image/png' });
  const res = await api.request('POST', '/api/posts/', body, headers);
  return res.body.image;
}

const spoofed = { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.9' };

t.test('by default forwarded headers are ignored: address, host and protocol', async (t) => {
  const server = await startTestServer(t, { authRateLimit: 3 });
  const api = new Api(server.url);
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await guess(api, `198.51.100.${i}`)).status);
  t.same(statuses, [401, 401, 401, 429], 'a new X-Forwarded-For per guess does not buy a new budget');

  // One database per process: this server closes before the next one opens its own.
  await server.close();
  const other = await startTestServer(t);
  const user = await makeUser(new Api(other.url));
  await makeUser(new Api(other.url));
  t.match(await nextLink(user.api, spoofed), new RegExp(`^${other.url}/api/users/\\?limit=1&before=\\d+$`), 'absolute URLs keep the real host and protocol');
  t.match(await imageUrl(user.api, spoofed), new RegExp(`^${other.url}/media/`), 'media URLs too');
});

t.test('a trusted proxy: its X-Forwarded-* are used; a client behind it cannot prepend its own', async (t) => {
  const { logger, lines } = capturingLogger();
  const server = await startTestServer(t, { authRateLimit: 3, trustProxy: 1 }, {}, logger);
  const api = new Api(server.url);
  // An appending proxy: whatever the client sent, then the address the proxy saw.
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await guess(api, `10.9.9.${i}, 192.0.2.1`)).status);
  t.same(statuses, [401, 401, 401, 429], 'the address the proxy saw is the one counted');
  t.same(lines.filter((l) => l.msg === 'request').map((l) => l.ip), Array(4).fill('192.0.2.1'), 'and the one logged');
  t.equal((await guess(api, '192.0.2.2')).status, 401, 'another real client has its own budget');

  const user = await makeUser(api, {});
  await makeUser(api);
  t.match(await nextLink(user.api, spoofed), /^https:\/\/evil\.example\/api\/users\/\?limit=1&before=\d+$/, 'host and protocol come from the proxy');
  t.match(await imageUrl(user.api, spoofed), /^https:\/\/evil\.example\/media\//, 'in media URLs too');
});

t.test('a proxy list: only connections from those addresses have their headers believed', async (t) => {
  const server = await startTestServer(t, { authRateLimit: 2, trustProxy: ['10.0.0.0/8'] });
  const api = new Api(server.url);
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await guess(api, `198.51.100.${i}`)).status);
  t.same(statuses, [401, 401, 429], 'this client (127.0.0.1) is not a trusted proxy');

  await server.close();
  const behind = await startTestServer(t, { authRateLimit: 2, trustProxy: 'loopback, 10.0.0.0/8' });
  const proxied = new Api(behind.url);
  const separate = [];
  for (let i = 0; i < 3; i++) separate.push((await guess(proxied, `198.51.100.${i}`)).status);
  t.same(separate, [401, 401, 401], 'from a listed proxy (loopback), each forwarded client has its own budget');
});

t.test('failed logins are throttled per account, whatever the address', async (t) => {
  // Every request "comes" from another address through a trusted proxy, as an attacker rotating addresses would.
  const server = await startTestServer(t, { trustProxy: 1, loginFailureLimit: 3 });
  const api = new Api(server.url);
  const victim = await makeUser(api);
  const bystander = await makeUser(api);
  let n = 0;
  const attempt = (path: string, username: string, password: string) =>
    api.request('POST', path, JSON.stringify({ username, password }), { 'Content-Type': 'application/json', 'X-Forwarded-For': `198.51.100.${++n}` });

  t.equal((await attempt('/api/users/login/', victim.username, 'wrong-one-1')).status, 400);
  t.equal((await attempt('/api/token/', victim.username.toUpperCase(), 'wrong-one-2')).status, 401);
  t.equal((await attempt('/api/users/login/', victim.username, victim.password)).status, 200, 'a right password below the limit logs in, and does not count');
  t.equal((await attempt('/api/token/', victim.username, 'wrong-one-3')).status, 401);
  const locked = await attempt('/api/users/login/', victim.username, victim.password);
  t.equal(locked.status, 429, 'the third failure locks the account, even for the right password');
  t.ok(Number(locked.headers.get('retry-after')) > 60, 'until the window has passed');
  t.equal((await attempt('/api/token/', ` ${victim.username}`, victim.password)).status, 429, 'on both login routes');
  t.equal((await attempt('/api/users/login/', bystander.username, bystander.password)).status, 200, 'other accounts are not affected');
});

const noRedis = (await redisAvailable()) ? false : `*** Redis not reachable at ${REDIS_URL}: shared login throttle NOT tested`;

t.test('with Redis the per-account budget is shared by every process', { skip: noRedis }, async (t) => {
  const redisPrefix = `jvai-test-${process.pid}-${Date.now()}`;
  const [one, two] = await startTestServers(t, 2, { redisUrl: REDIS_URL, redisPrefix, loginFailureLimit: 2 });
  const body = JSON.stringify({ username: 'shared-victim', password: 'wrong-1234' });
  const post = (server: { url: string }) => new Api(server.url).request('POST', '/api/token/', body, { 'Content-Type': 'application/json' });
  t.equal((await post(one)).status, 401);
  t.equal((await post(two)).status, 401);
  t.equal((await post(one)).status, 429, 'the failure on the other process counted');
});
