/**
 * The socket.io transport at /socket.io (schemas/protocol.ts): one authenticated connection per
 * client carrying everything its user can receive, beside the raw ws endpoints. An adapter
 * over the same connection core (connections.ts) and request rules (channels.ts): refusals
 * are connect_errors, acknowledgements and a 'closing' event before a disconnect.
 */
import type http from 'node:http';
import { Server, type Socket } from 'socket.io';
import { AppError } from '../errors.js';
import { rooms } from './hub.js';
import { channelRequests } from './channels.js';
import type { Outbound } from './frames.js';
import { channelEvent } from '../presenters/events.js';
import { bearerToken, Connections, readSince, type Grant, type Hold, type TransportDeps, type Wire } from './connections.js';
import type { WsTransportOptions } from './ws.js';
import { SOCKET_IO_PATH, type ClientToServerEvents, type ServerToClientEvents } from '../schemas/protocol.js';

type IoServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, Grant>;
type IoSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, Grant>;

/** A connect_error for the client: the API's detail as message, the HTTP status as data. */
function connectError(message: string, status: number): Error {
  return Object.assign(new Error(message), { data: { status } });
}

/** One socket's side of its connection. */
interface IoWire extends Wire {
  socket: IoSocket;
}

const resync = (latest: number) => channelEvent('resync', { latest_seq: latest });

export class SocketIoTransport {
  private readonly io: IoServer;
  private readonly clients: Connections<IoWire>;
  /** Presence held for admitted sockets not connected yet, and what gives it back if the client leaves first. */
  private readonly admitted = new WeakMap<IoSocket, { hold: Hold; leftEarly: () => void }>();

  constructor(
    server: http.Server,
    private readonly deps: TransportDeps,
    options: WsTransportOptions,
  ) {
    // A flood is refused request by request, each with its acknowledgement; never by
    // disconnecting, which would lose the acknowledgements of requests already queued.
    this.clients = new Connections(deps, { label: 'socket.io', burst: options.burst, perSecond: options.perSecond, maxStrikes: Infinity, resync });
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

  /**
   * Authenticates from `auth.token` (or an Authorization header), reads `auth.since`, and holds
   * the user's presence before socket.io answers CONNECT (Connections.hold).
   */
  private async admit(socket: IoSocket): Promise<void> {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    const token = typeof auth.token === 'string' && auth.token ? auth.token : bearerToken(socket.handshake.headers.authorization);
    try {
      Object.assign(socket.data, await this.clients.authenticate(token));
      socket.data.since = readSince(auth.since);
    } catch (err) {
      if (err instanceof AppError) throw connectError(err.message, err.status);
      this.deps.logger.error({ err }, 'socket.io admission failed');
      throw connectError('Internal error.', 500);
    }
    // A client already gone is never connected (socket.io checks): nothing to hold.
    if (socket.conn.readyState !== 'open') return;
    const hold = this.clients.hold(socket.data.user);
    const leftEarly = () => hold.release();
    socket.conn.once('close', leftEarly);
    this.admitted.set(socket, { hold, leftEarly });
    await hold.held;
  }

  private attach(socket: IoSocket): void {
    const { user } = socket.data;
    const admitted = this.admitted.get(socket);
    this.admitted.delete(socket);
    if (admitted) socket.conn.off('close', admitted.leftEarly);
    const wire: IoWire = {
      socket,
      send: (frame, seq) => this.emit(socket, frame, seq),
      close: (code, reason) => {
        socket.emit('closing', { code, reason });
        socket.disconnect(true);
      },
      fail: () => socket.disconnect(true),
    };
    const client = this.clients.open(socket.data, [rooms.inbox(user.id)], wire, admitted?.hold);
    // Listeners before returning: socket.io drops requests that arrive before them.
    for (const [name, handler] of Object.entries(channelRequests(user, this.deps))) {
      socket.on(name as keyof ClientToServerEvents, (request: unknown, ack?: unknown) => {
        const reply = typeof ack === 'function' ? (ack as (result: object) => void) : () => undefined;
        if (client.throttle.check() !== 'ok') return reply({ ok: false, error: 'Too many messages; slow down.', status: 429 });
        client.request(
          async () => reply({ ok: true, ...(await handler(request)) }),
          (_err, refused) => reply({ ok: false, error: refused?.message ?? 'Internal error.', status: refused?.status ?? 500 }),
        );
      });
    }
    socket.on('disconnect', () => this.clients.detach(client));
  }

  /** Only channel events travel here; the raw ws frames belong to those endpoints' rooms. */
  private emit(socket: IoSocket, frame: Outbound, seq?: number): void {
    if (!('event' in frame)) return;
    const data = seq === undefined ? frame.data : { ...frame.data, seq };
    (socket.emit as (event: string, data: unknown) => boolean)(frame.event, data);
  }

  /** Disconnects every client and waits for requests being handled; leaves the HTTP server open. */
  async close(): Promise<void> {
    await this.clients.close(({ wire }) => wire.socket.disconnect(true));
    this.io.engine.close();
  }
}
