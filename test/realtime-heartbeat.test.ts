/** Dead connections (no pong) are dropped by the heartbeat, and their users go offline. */
import t from 'tap';
import { WebSocket } from 'ws';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { connectWs, nextFrame, wsUrl } from './helpers/ws.js';

t.test('a peer that stops answering pings is dropped', async (t) => {
  const server = await startTestServer(t, {}, { heartbeatMs: 200 });
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
  const online = await nextFrame(watching, (f) => f.type === 'presence' && f.user_id === ghost.id && f.is_online === true);
  t.ok(online, 'the watcher saw the ghost come online');

  const started = Date.now();
  const offline = await nextFrame(watching, (f) => f.type === 'presence' && f.user_id === ghost.id && f.is_online === false, 3000);
  t.ok(offline, 'and go offline once the heartbeat gave up on it');
  t.ok(Date.now() - started < 2000, 'within a few heartbeat intervals');
  t.equal(typeof (await closed), 'number', 'the server cut the connection');
  t.equal((await watcher.api.get(`/api/users/${ghost.id}/`)).body.is_online, false);

  // A live peer (answering pings) stays connected over the same period.
  const alive = await connectWs(wsUrl(server.url, '/ws/status/'), watcher.access);
  await new Promise((r) => setTimeout(r, 800));
  t.equal(alive.readyState, WebSocket.OPEN, 'a peer that answers pings is kept');
  alive.close();
});
