/**
 * The socket.io transport at /socket.io (protocol.ts): one authenticated connection per
 * client carrying everything its user can receive, beside the raw ws endpoints and through
 * the same hub, presence, log replay and request rules (channels.ts).
 */
import type http from 'node:http';
import type { Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import type { User } from '../models/index.js';
import type { Services } from '../services/index.js';
import type { EventBus } from '../events/bus.js';
import { AppError, AuthenticationFailed } from '../errors.js';
import { rooms, type Hub } from './hub.js';
import type { PresenceTracker } from './presence.js';
import { channelRequests, refusal, type RequestHandler } from './channels.js';
import { channelEvent, type Outbound } from './frames.js';
import { Throttle } from './tokenBucket.js';
import { ResumableConnection } from './resume.js';
import { guardSession } from './sessionGuard.js';
import type { SendLimiter } from '../services/sendLimit.js';
import type { WsTransportOptions } from './ws.js';
import { SOCKET_IO_PATH, type ClientToServerEvents, type ServerToClientEvents } from './protocol.js';

interface SocketData {
  user: User;
  sessionId: string;
  token: string;
  /** The access token's expiry (epoch ms): the connection closes then. */
  expiresAt: number;
  since?: number;
}

type IoServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface SocketIoTransportDeps {
  hub: Hub;
  presence: PresenceTracker;
  services: Services;
  bus: EventBus;
  logger: Logger;
  sendLimiter: SendLimiter;
}

interface Client {
  socket: IoSocket;
  connection: ResumableConnection;
  /** Requests are handled one at a time, so a client's messages are stored in the order sent. */
  queue: Promise<void>;
  /** Stops watching the session's expiry. */
  unguard: () => void;
}

/** A connect_error for the client: the API's detail as message, the HTTP status as data. */
function connectError(message: string, status: number): Error {
  return Object.assign(new Error(message), { data: { status } });
}

const isSince = (value: unknown): value is number | string =>
  (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) || (typeof value === 'string' && /^\d{1,15}$/.test(value));

export class SocketIoTransport {
  private readonly io: IoServer;
  private readonly clients = new Set<Client>();

  constructor(
    server: http.Server,
    private readonly deps: SocketIoTransportDeps,
    private readonly options: WsTransportOptions,
  ) {
    this.io = new Server(server, {
      path: SOCKET_IO_PATH,
      serveClient: false,
      maxHttpBufferSize: options.maxPayloadBytes,
      pingInterval: Math.min(options.heartbeatMs, 25_000),
      // Other upgrades (/ws/...) are the raw transport's, however long it takes to admit them.
      destroyUpgrade: false,
    });
    this.io.use((socket, next) => {
      this.admit(socket).then(
        () => next(),
        (err: unknown) => next(err as Error),
      );
    });
    this.io.on('connection', (socket) => this.attach(socket));
  }

  /** Authenticates from `auth.token` (or an Authorization header) and reads `auth.since`. */
  private async admit(socket: IoSocket): Promise<void> {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    const header = /^Bearer\s+(\S+)\s*$/i.exec(socket.handshake.headers.authorization ?? '');
    const token = typeof auth.token === 'string' && auth.token ? auth.token : header?.[1];
    try {
      if (!token) throw new AuthenticationFailed();
      Object.assign(socket.data, await this.deps.services.tokens.authenticate(token), { token });
    } catch (err) {
      if (err instanceof AppError) throw connectError(err.message, err.status);
      this.deps.logger.error({ err }, 'socket.io admission failed');
      throw connectError('Internal error.', 500);
    }
    if (auth.since !== undefined && auth.since !== null) {
      if (!isSince(auth.since)) throw connectError('since: A valid integer is required.', 400);
      socket.data.since = Number(auth.since);
    }
  }

  private attach(socket: IoSocket): void {
    const { user, sessionId, token, expiresAt, since } = socket.data;
    const client: Client = {
      socket,
      connection: new ResumableConnection({
        userId: user.id,
        send: (frame, seq) => this.emit(socket, frame, seq),
        close: (code, reason) => {
          socket.emit('closing', { code, reason });
          socket.disconnect(true);
        },
      }),
      queue: Promise.resolve(),
      unguard: () => undefined,
    };
    this.clients.add(client);
    // Listeners first, synchronously: socket.io drops requests that arrive before them.
    // A flood is refused request by request, each with its acknowledgement; never by
    // disconnecting, which would lose the acknowledgements of requests already queued.
    const throttle = new Throttle(this.options.burst, this.options.perSecond, Infinity);
    const { services, bus, sendLimiter } = this.deps;
    for (const [name, handler] of Object.entries(channelRequests(user, { services, bus, sendLimiter }))) {
      socket.on(name as keyof ClientToServerEvents, (request: unknown, ack?: unknown) => {
        const reply = typeof ack === 'function' ? (ack as (result: object) => void) : () => undefined;
        if (throttle.check() !== 'ok') return reply({ ok: false, error: 'Too many messages; slow down.', status: 429 });
        client.queue = client.queue.then(() => this.run(client, handler, request, reply));
      });
    }
    socket.on('disconnect', () => this.detach(client));
    const roomNames = [rooms.session(sessionId), rooms.inbox(user.id)];
    this.deps.hub.add(client.connection, roomNames);
    client.unguard = guardSession(client.connection, { token, expiresAt }, this.deps.services.tokens, this.deps.logger);
    this.deps.presence.connected(user);
    if (since !== undefined) {
      const resync = (latest: number) => channelEvent('resync', { latest_seq: latest });
      client.queue = client.connection.replay(services.deps.events, since, roomNames, resync).catch((err: unknown) => {
        this.deps.logger.error({ err, userId: user.id }, 'socket.io replay failed');
        socket.disconnect(true);
      });
    }
  }

  private async run(client: Client, handler: RequestHandler, request: unknown, reply: (result: object) => void): Promise<void> {
    try {
      reply({ ok: true, ...(await handler(request)) });
    } catch (err) {
      const refused = refusal(err);
      if (!refused) this.deps.logger.error({ err, userId: client.socket.data.user.id }, 'socket.io request failed');
      reply({ ok: false, error: refused?.message ?? 'Internal error.', status: refused?.status ?? 500 });
    }
  }

  /** Only channel events travel here; the raw ws frames belong to those endpoints' rooms. */
  private emit(socket: IoSocket, frame: Outbound, seq?: number): void {
    if (!('event' in frame)) return;
    const data = seq === undefined ? frame.data : { ...frame.data, seq };
    (socket.emit as (event: string, data: unknown) => boolean)(frame.event, data);
  }

  /** Idempotent: runs on 'disconnect', and directly on shutdown so presence is written in time. */
  private detach(client: Client): void {
    if (!this.clients.delete(client)) return;
    client.unguard();
    this.deps.hub.remove(client.connection);
    this.deps.presence.disconnected(client.socket.data.user);
  }

  /** Disconnects every client and waits for requests being handled; leaves the HTTP server open. */
  async close(): Promise<void> {
    const clients = [...this.clients];
    for (const client of clients) {
      this.detach(client);
      client.socket.disconnect(true);
    }
    await Promise.all(clients.map((c) => c.queue));
    this.io.engine.close();
  }
}
