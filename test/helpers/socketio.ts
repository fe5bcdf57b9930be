/**
 * socket.io clients for tests: `connectIo(url, user)`, then `nextEvent(client, name)`.
 * Every event is buffered from the start, so one that arrives before the test waits is not lost.
 */
import { io, type Socket } from 'socket.io-client';
import type { Test } from 'tap';
import type { ClientToServerEvents, ServerToClientEvents, SocketAuth } from '../../src/schemas/protocol.js';

export type IoClient = Socket<ServerToClientEvents, ClientToServerEvents>;
type Received = { event: string; data: any };

const inboxes = new WeakMap<IoClient, { events: Received[]; wake: Set<() => void>; closed: Promise<{ code?: number; reason: string }> }>();

/** A client with these credentials, connecting; every event it receives is buffered. */
export function openIo(t: Test, url: string, auth: Partial<SocketAuth> | undefined): IoClient {
  const client: IoClient = io(url, { path: '/socket.io', auth, transports: ['websocket'], reconnection: false, forceNew: true });
  let closing: { code: number; reason: string } | undefined;
  const inbox = {
    events: [] as Received[],
    wake: new Set<() => void>(),
    closed: new Promise<{ code?: number; reason: string }>((resolve) => client.once('disconnect', (reason) => resolve({ code: closing?.code, reason }))),
  };
  inboxes.set(client, inbox);
  client.onAny((event: string, data: any) => {
    if (event === 'closing') closing = data;
    inbox.events.push({ event, data });
    for (const wake of [...inbox.wake]) wake();
  });
  t.teardown(() => client.disconnect());
  return client;
}

/** Connects with an access token (and a seq to resume from) and resolves once admitted (rejects with the connect_error). */
export async function connectIo(t: Test, url: string, token: string, since?: number): Promise<IoClient> {
  const client = openIo(t, url, { token, ...(since === undefined ? {} : { since }) });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('connect_error', reject);
  });
  return client;
}

/** The events received so far (left in the buffer). */
export function received(client: IoClient): Received[] {
  return inboxes.get(client)!.events;
}

/** The first buffered or future event of that name matching `where` (consumed). */
export function nextEvent(client: IoClient, event: string, where: (data: any) => boolean = () => true, timeoutMs = 3000): Promise<any> {
  const inbox = inboxes.get(client)!;
  return new Promise((resolve, reject) => {
    const check = () => {
      const index = inbox.events.findIndex((e) => e.event === event && where(e.data));
      if (index === -1) return;
      inbox.wake.delete(check);
      clearTimeout(timer);
      resolve(inbox.events.splice(index, 1)[0].data);
    };
    const timer = setTimeout(() => {
      inbox.wake.delete(check);
      reject(new Error(`no ${event} within ${timeoutMs} ms; got ${JSON.stringify(inbox.events)}`));
    }, timeoutMs);
    inbox.wake.add(check);
    check();
  });
}

/** How the server ended the connection: the code of its `closing` event, and socket.io's reason. Rejects after timeoutMs. */
export function ioClosed(client: IoClient, timeoutMs = 5000): Promise<{ code?: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket.io connection still up after ${timeoutMs} ms`)), timeoutMs);
    inboxes.get(client)!.closed.then((closed) => {
      clearTimeout(timer);
      resolve(closed);
    });
  });
}

/** Emits a request and resolves with its acknowledgement. */
export function request(client: IoClient, event: keyof ClientToServerEvents, data: unknown): Promise<any> {
  return new Promise((resolve) => (client.emit as (e: string, d: unknown, ack: (r: unknown) => void) => void)(event, data, resolve));
}
