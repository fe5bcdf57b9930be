/**
 * A user's logged events reach their connections in seq order even when the bus does not carry
 * them in order (several processes publish, each after its own COMMIT) or loses one (a process
 * died between COMMIT and publish). The bus of a real server is made to misbehave so; the
 * multi-process test (multiprocess.test.ts) shows the same with two processes and Redis.
 */
import t from 'tap';
import type { Test } from 'tap';
import type WebSocket from 'ws';
import { QueryTypes } from 'sequelize';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { connectWs, framesBefore, nextFrame, wsUrl, type Frame } from './helpers/ws.js';
import { connectIo, nextEvent, received, type IoClient } from './helpers/socketio.js';
import type { DomainEventName, DomainEvents } from '../src/events/types.js';
import { GAP_WAIT_MS } from '../src/realtime/seqOrder.js';

interface Listener {
  alice: TestUser;
  bob: TestUser;
  io: IoClient;
  ws: WebSocket;
}
type Published = { name: DomainEventName; payload: DomainEvents[DomainEventName] };

t.test("a user's events reach their sockets in seq order, whatever order the bus brings them in", async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const { bus } = server;
  const publish = bus.publish.bind(bus);
  /** Takes a publication out of the bus's hands when it returns true. */
  let takeOut: ((event: Published) => boolean) | undefined;
  bus.publish = async (name, payload) => {
    if (takeOut?.({ name, payload })) return;
    await publish(name, payload);
  };
  const release = ({ name, payload }: Published) => publish(name, payload);
  /** Takes out the next DM whose content is `content`; resolves with it. */
  const holdBack = (content: string): Promise<Published> =>
    new Promise((resolve) => {
      takeOut = (event) => {
        if (event.name !== 'dm.created' || (event.payload as DomainEvents['dm.created']).message.content !== content) return false;
        takeOut = undefined;
        resolve(event);
        return true;
      };
    });

  const dm = async (from: TestUser, to: TestUser, content: string) => {
    const { status } = await from.api.post('/api/messages/', { receiver: to.id, content });
    if (status !== 201) throw new Error(`sending "${content}" answered ${status}`);
  };
  /** Bob, listening on socket.io (everything) and on his conversation with alice (raw ws). */
  const listen = async (): Promise<Listener> => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const io = await connectIo(t, server.url, bob.access);
    const ws = await connectWs(wsUrl(server.url, `/ws/messages/${alice.id}/`), bob.access);
    t.teardown(() => ws.close());
    return { alice, bob, io, ws };
  };
  const isMessage = (f: Frame) => f.type === 'message';
  const ioMessages = async (io: IoClient, count: number) => {
    const got = [];
    for (let i = 0; i < count; i++) got.push(await nextEvent(io, 'dm:new'));
    return got.map((m) => [m.content, m.seq]);
  };
  /** After a marker message, nothing else is left on either socket: no event came twice. */
  const nothingTwice = async (t: Test, { alice, bob, io, ws }: Listener) => {
    await dm(alice, bob, 'marker');
    t.same((await framesBefore(ws, (f) => f.content === 'marker')).filter(isMessage), [], 'raw ws: each once');
    await nextEvent(io, 'dm:new', (m) => m.content === 'marker');
    t.same(received(io).filter((e) => e.event === 'dm:new'), [], 'socket.io: each once');
  };
  const wsMessages = async (ws: WebSocket, count: number) => {
    const got = [];
    for (let i = 0; i < count; i++) got.push(await nextFrame(ws, isMessage));
    return got.map((m) => [m.content, m.seq]);
  };

  t.test('an event that comes before its predecessor waits for it', async (t) => {
    const listener = await listen();
    const { alice, bob, io, ws } = listener;
    const first = holdBack('one');
    await dm(alice, bob, 'one');
    await dm(alice, bob, 'two');
    await release(await first);
    await dm(alice, bob, 'three');
    const inOrder = [
      ['one', 1],
      ['two', 2],
      ['three', 3],
    ];
    t.same(await ioMessages(io, 3), inOrder, 'socket.io: in seq order');
    t.same(await wsMessages(ws, 3), inOrder, 'raw ws: in seq order');
    await nothingTwice(t, listener);
  });

  t.test('an event that never comes off the bus is read from the log', async (t) => {
    const listener = await listen();
    const { alice, bob, io, ws } = listener;
    const lost = holdBack('lost');
    await dm(alice, bob, 'lost');
    await lost;
    const sentAt = Date.now();
    await dm(alice, bob, 'after');
    t.same(await ioMessages(io, 2), [
      ['lost', 1],
      ['after', 2],
    ]);
    t.ok(Date.now() - sentAt >= GAP_WAIT_MS - 5, 'after the predecessor was given its time to come');
    const [fromLog] = await Promise.all([nextFrame(ws, isMessage), nextFrame(ws, (f) => f.content === 'after')]);
    t.match(fromLog, { type: 'message', sender_id: alice.id, receiver_id: bob.id, content: 'lost', seq: 1 }, 'the raw ws frame, as it would have come live');
    // Should it come after all, it is not delivered twice.
    await release(await lost);
    await nothingTwice(t, listener);
  });

  t.test('a connection hears live only what was committed after it was admitted; older events come by resuming', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const late = holdBack('before');
    await dm(alice, bob, 'before');
    const io = await connectIo(t, server.url, bob.access);
    await release(await late);
    await dm(alice, bob, 'after');
    t.same(await ioMessages(io, 1), [['after', 2]], 'the older one, published late, is not heard live');
    const resumed = await connectIo(t, server.url, bob.access, 0);
    t.same(await ioMessages(resumed, 2), [
      ['before', 1],
      ['after', 2],
    ]);
  });

  t.test('an event missing from the bus and the log is skipped, not waited for forever', async (t) => {
    const { alice, bob, io } = await listen();
    const gone = holdBack('gone');
    await dm(alice, bob, 'gone');
    await gone;
    await server.sequelize.query('DELETE FROM user_events WHERE user_id = :userId AND seq = 1', { type: QueryTypes.DELETE, replacements: { userId: bob.id } });
    await dm(alice, bob, 'after');
    t.same(await ioMessages(io, 1), [['after', 2]]);
  });
});
