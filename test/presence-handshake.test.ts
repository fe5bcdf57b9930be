/**
 * A realtime client is told it is connected only once its presence hold is recorded
 * (Connections.hold): then, when it closes another connection right away (a user moving between
 * processes), it is still counted online everywhere. The registry write is slowed down here so
 * that a transport answering early is caught every time, not once in a thousand runs.
 */
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { connectWs, wsUrl } from './helpers/ws.js';
import { openIo } from './helpers/socketio.js';
import { PresenceTracker } from '../src/realtime/presence.js';
import type { User } from '../src/models/index.js';

const RECORDING_MS = 300;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Users whose hold has been recorded (connected() settled), by id. */
const recorded = new Set<number>();
const connected = PresenceTracker.prototype.connected;
PresenceTracker.prototype.connected = async function (this: PresenceTracker, user: User) {
  await connected.call(this, user);
  await delay(RECORDING_MS);
  recorded.add(user.id);
};
t.teardown(() => {
  PresenceTracker.prototype.connected = connected;
});

t.test('the handshake waits for the presence hold', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const isOnline = async (who: TestUser) => (await who.api.get('/api/users/me/')).body.is_online as boolean;
  /** Polls until the user's flag reads `online` (the flag is written after the hold). */
  const until = async (who: TestUser, online: boolean) => {
    for (let i = 0; i < 50 && (await isOnline(who)) !== online; i++) await delay(50);
    return isOnline(who);
  };

  t.test('raw websocket: open only once the hold is recorded', async (t) => {
    const alice = await makeUser(api);
    const socket = await connectWs(wsUrl(server.url, '/ws/status/'), alice.access);
    t.ok(recorded.has(alice.id), 'recorded before the socket opened');
    socket.close();
  });

  t.test('socket.io: connect only once the hold is recorded', async (t) => {
    const bob = await makeUser(api);
    const client = openIo(t, server.url, { token: bob.access });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connect_error', reject);
    });
    t.ok(recorded.has(bob.id), 'recorded before CONNECT was answered');
    t.equal(await until(bob, true), true);
    client.disconnect();
    t.equal(await until(bob, false), false, 'offline once it left');
  });

  t.test('socket.io: a client that leaves while its hold is being recorded is not left online', async (t) => {
    const carol = await makeUser(api);
    const client = openIo(t, server.url, { token: carol.access });
    let connectedEarly = false;
    client.once('connect', () => (connectedEarly = true));
    // Admitted and holding, not yet answered: leave now.
    await delay(RECORDING_MS / 3);
    client.disconnect();
    await delay(RECORDING_MS);
    t.notOk(connectedEarly, 'never connected');
    t.ok(recorded.has(carol.id), 'the hold was taken');
    t.equal(await until(carol, false), false, 'and given back: offline');
  });
});
