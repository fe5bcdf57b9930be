/** Dead connections (no pong) are dropped by the heartbeat, and their users go offline. */
import t from 'tap';
import { WebSocket } from 'ws';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { connectWs, nextFrame, sendJson, wsUrl } from './helpers/ws.js';

const HEARTBEAT_MS = 200;

/** Resolves with what `promise` gives, or rejects after ms (never hangs for tap's timeout). */
const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });

t.test('a peer that stops answering pings is dropped', async (t) => {
  const server = await startTestServer(t, {}, { heartbeatMs: HEARTBEAT_MS });
  const api = new Api(server.url);
  const ghost = await makeUser(api);
  const watcher = await makeUser(api);
  await watcher.api.post(`/api/users/${ghost.id}/follow/`);
  const watching = await connectWs(wsUrl(server.url, '/ws/status/'), watcher.access);
  t.teardown(() => watching.close());

  // autoPong off: the socket stays open on our side but never answers, like a vanished device.
  const dead = new WebSocket(wsUrl(server.url, '/ws/status/'), { headers: { Authorization: `Bearer ${ghost.access}` }, autoPong: false });
  const closed = new Promise<number>((resolve) => dead.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => dead.once('open', resolve).once('error', reject));
  const online = await nextFrame(watching, (f) => f.type === 'presence' && f.user_id === ghost.id);
  t.equal(online.is_online, true, 'the watcher first sees the ghost come online');
  t.equal((await watcher.api.get(`/api/users/${ghost.id}/`)).body.is_online, true);

  const started = Date.now();
  const offline = await nextFrame(watching, (f) => f.type === 'presence' && f.user_id === ghost.id, 3000);
  t.equal(offline.is_online, false, 'then offline once the heartbeat gave up on it');
  t.ok(Date.now() - started < 10 * HEARTBEAT_MS, `within a few heartbeat intervals (${Date.now() - started} ms)`);
  // terminate(): no close frame, so the peer sees an abnormal closure.
  t.equal(await within(closed, 3000, 'the server cutting the connection'), 1006, 'the server cut the connection');
  t.equal((await watcher.api.get(`/api/users/${ghost.id}/`)).body.is_online, false);

  // A live peer (answering pings) stays connected through several heartbeats, and is served.
  const alive = await connectWs(wsUrl(server.url, '/ws/status/'), watcher.access);
  let pings = 0;
  await within(new Promise<void>((resolve) => alive.on('ping', () => ++pings === 4 && resolve())), 20 * HEARTBEAT_MS, 'four pings');
  t.equal(alive.readyState, WebSocket.OPEN, 'a peer that answers pings is kept');
  sendJson(alive, { type: 'ping' });
  await nextFrame(alive, (f) => f.type === 'pong');
  alive.close();
});
