/**
 * One sending budget per user across REST, every raw socket and socket.io connection, and
 * (through Redis) every process. A low budget here (1/s sustained + 4 extra per minute) so a
 * flood hits it at once; every send is either stored and confirmed, or refused and told so.
 */
import crypto from 'node:crypto';
import t from 'tap';
import type WebSocket from 'ws';
import { startTestServer, startTestServers } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { closeCode, connectWs, nextFrame, sendJson, wsUrl, type Frame } from './helpers/ws.js';
import { connectIo, request } from './helpers/socketio.js';
import { REDIS_URL, redisAvailable } from './helpers/redis.js';

const LIMITS = { sendRateLimit: 1, sendBurst: 4 };
/** The most a user can have stored in `ms` under LIMITS: the burst, plus one per started second window. */
const budget = (ms: number) => LIMITS.sendBurst + Math.ceil(ms / 1000) + 1;
const THROTTLED = /^Request was throttled\. Expected available in \d+ seconds?\.$/;

const storedBetween = async (api: Api, from: TestUser, to: TestUser): Promise<string[]> => {
  const res = await api.as(to).get(`/api/messages/with_user/?user_id=${from.id}&limit=100`);
  const items: { content: string; sender: number }[] = res.body;
  return items.filter((m) => m.sender === from.id).map((m) => m.content);
};

t.test('per-user sending budget on one server', async (t) => {
  const server = await startTestServer(t, LIMITS);
  const api = new Api(server.url);

  t.test('REST: 429 with Retry-After and the DRF detail once the budget is spent', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const started = Date.now();
    const statuses: number[] = [];
    let refused;
    for (let i = 0; i < 12; i++) {
      const res = await api.as(alice).post('/api/messages/', { receiver: bob.id, content: `rest ${i}` });
      statuses.push(res.status);
      if (res.status === 429) refused = res;
    }
    const elapsed = Date.now() - started;
    const accepted = statuses.filter((s) => s === 201).length;
    t.same(new Set(statuses), new Set([201, 429]), 'only stored or throttled');
    t.ok(accepted >= LIMITS.sendBurst && accepted <= budget(elapsed), `${accepted} stored in ${elapsed} ms`);
    t.match(refused!.body, { detail: THROTTLED });
    t.ok(Number(refused!.headers.get('retry-after')) >= 1, 'Retry-After');
    t.equal((await storedBetween(api, alice, bob)).length, accepted, 'exactly the accepted ones were stored');
    const post = await api.as(alice).post('/api/posts/', { content: 'also a send' });
    t.equal(post.status, 429, 'posts draw on the same budget');
    const other = await makeUser(api);
    t.equal((await api.as(other).post('/api/messages/', { receiver: bob.id, content: 'hi' })).status, 201, 'another user has their own');
  });

  t.test('raw sockets: 10 sockets share the user’s budget; every frame is stored or refused with an error frame', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const sockets = await Promise.all(Array.from({ length: 10 }, () => connectWs(wsUrl(server.url, `/ws/messages/${bob.id}/`), alice.access)));
    const started = Date.now();
    const PER_SOCKET = 5;
    sockets.forEach((ws, s) => {
      for (let i = 0; i < PER_SOCKET; i++) sendJson(ws, { type: 'message', content: `ws ${s}.${i}` });
    });
    // Each socket hears its own stored messages (the conversation room) and an error per refusal.
    const answers = await Promise.all(
      sockets.map(async (ws, s) => {
        const mine = (f: Frame) => (f.type === 'message' && f.content.startsWith(`ws ${s}.`)) || f.type === 'error';
        const frames: Frame[] = [];
        while (frames.filter((f) => f.type === 'error').length + frames.filter((f) => f.type === 'message').length < PER_SOCKET) frames.push(await nextFrame(ws, mine));
        return frames;
      }),
    );
    const elapsed = Date.now() - started;
    const echoed = answers.flat().filter((f) => f.type === 'message').map((f) => f.content);
    const errors = answers.flat().filter((f) => f.type === 'error');
    t.ok(errors.length > 0 && errors.every((f) => THROTTLED.test(f.message)), `${errors.length} refused with the throttling message`);
    t.ok(echoed.length >= 1 && echoed.length <= budget(elapsed), `${echoed.length} of 50 stored in ${elapsed} ms`);
    t.same((await storedBetween(api, alice, bob)).sort(), echoed.sort(), 'stored exactly what was confirmed');
    t.equal((await api.as(alice).post('/api/messages/', { receiver: bob.id, content: 'rest' })).status, 429, 'REST shares the budget');
  });

  t.test('socket.io: under a flood every request is acknowledged, stored or refused with the error', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const client = await connectIo(t, server.url, alice.access);
    const started = Date.now();
    const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => request(client, 'dm:send', { to: bob.id, content: `io ${i}` })));
    const elapsed = Date.now() - started;
    const stored = acks.filter((a) => a.ok).map((a) => a.message.content);
    const refused = acks.filter((a) => !a.ok);
    t.equal(stored.length + refused.length, 30, 'all 30 acknowledged');
    t.ok(refused.every((a) => a.status === 429 && typeof a.error === 'string'), 'refusals carry status 429 and the error');
    t.ok(stored.length >= 1 && stored.length <= budget(elapsed), `${stored.length} stored in ${elapsed} ms`);
    t.same((await storedBetween(api, alice, bob)).sort(), stored.sort(), 'stored exactly what was acknowledged');
    t.ok(client.connected, 'and the connection stays up');
  });

  t.test('raw socket: persistent flooding gets error frames, then 4429', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const ws: WebSocket = await connectWs(wsUrl(server.url, `/ws/messages/${bob.id}/`), alice.access);
    for (let i = 0; i < 100; i++) sendJson(ws, { type: 'message', content: `flood ${i}` });
    await nextFrame(ws, (f) => f.type === 'error');
    t.equal(await closeCode(ws), 4429);
  });
});

const redisSkip = (await redisAvailable()) ? false : `*** Redis at ${REDIS_URL} not reachable: shared sending budget NOT tested`;

t.test('two servers sharing Redis share the budget', { skip: redisSkip }, async (t) => {
  // One database and one Redis namespace for both servers.
  const [a, b] = await startTestServers(t, 2, { redisUrl: REDIS_URL, redisPrefix: `jvai-test-${crypto.randomBytes(6).toString('hex')}`, ...LIMITS });
  const [alice, bob] = [await makeUser(new Api(a.url)), await makeUser(new Api(a.url))];
  const send = (server: typeof a, i: number) => new Api(server.url).as(alice).post('/api/messages/', { receiver: bob.id, content: `shared ${i}` });
  const statuses: number[] = [];
  const started = Date.now();
  for (let i = 0; i < 16; i++) statuses.push((await send(i % 2 ? b : a, i)).status);
  const elapsed = Date.now() - started;
  const accepted = statuses.filter((s) => s === 201).length;
  // Two separate budgets would have let through about twice as many.
  t.ok(accepted <= budget(elapsed), `${accepted} of 16 accepted across both servers in ${elapsed} ms`);
  t.ok([0, 1].every((side) => statuses.some((s, i) => i % 2 === side && s === 429)), 'both servers refuse once the shared budget is spent');
});
