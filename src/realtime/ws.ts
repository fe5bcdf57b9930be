/**
 * The raw WebSocket transport (the /ws/... paths; README, Realtime), on the HTTP server's 'upgrade'
 * event. It authenticates, asks the endpoint whether the user may connect, registers the
 * socket with the hub and presence (after replaying the log from `?since=<seq>`, when given),
 * and feeds client frames to the endpoint's handlers.
 * Protection: a payload cap, a per-socket token bucket (sends also draw on the user's budget),
 * heartbeats that drop dead peers, a bound on what a slow reader may leave buffered, and the
 * session's life (revocation, token expiry: 4401).
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import type { User } from '../models/index.js';
import type { Services } from '../services/index.js';
import type { EventBus } from '../events/bus.js';
import { AppError } from '../errors.js';
import { CLOSE, rooms, type Hub } from './hub.js';
import type { PresenceTracker } from './presence.js';
import { matchEndpoint, refusalFrame, type Channel, type FrameHandler } from './channels.js';
import { errorFrame, resyncFrame, type Outbound } from './frames.js';
import { Throttle } from './tokenBucket.js';
import { ResumableConnection } from './resume.js';
import { guardSession } from './sessionGuard.js';
import type { SendLimiter } from '../services/sendLimit.js';
import { Throttled } from '../errors.js';

export interface WsTransportOptions {
  /** Largest client frame; bigger ones close the socket with 1009. */
  maxPayloadBytes: number;
  /** Ping interval; a socket that has not answered the previous ping is dropped. */
  heartbeatMs: number;
  /** Frames a client may send in a burst, and refilled per second (per socket; sends also draw on the user's budget). */
  burst: number;
  perSecond: number;
  /** Frames refused for rate (per socket or per user) without calming down before the socket is closed with 4429. */
  maxStrikes: number;
  /** Unsent bytes a client may leave queued before it is dropped as too slow. */
  maxBufferedBytes: number;
  /** How long close() lets clients answer the close handshake before cutting them off. */
  closeGraceMs: number;
}

export const WS_DEFAULTS: WsTransportOptions = {
  maxPayloadBytes: 64 * 1024,
  heartbeatMs: 30_000,
  burst: 20,
  perSecond: 10,
  maxStrikes: 20,
  maxBufferedBytes: 4 * 1024 * 1024,
  closeGraceMs: 1_000,
};

export interface WsTransportDeps {
  hub: Hub;
  presence: PresenceTracker;
  services: Services;
  bus: EventBus;
  logger: Logger;
  sendLimiter: SendLimiter;
  /** Upgrade paths another transport (socket.io) answers; every other non-/ws path gets a 404. */
  claimedElsewhere?: (pathname: string) => boolean;
}

interface Client {
  ws: WebSocket;
  user: User;
  channel: Channel;
  connection: ResumableConnection;
  /** Answered the last heartbeat ping. */
  alive: boolean;
  throttle: Throttle;
  /** Frames are handled one at a time, so a client's messages are stored in the order sent. */
  queue: Promise<void>;
  /** Stops watching the session's expiry. */
  unguard: () => void;
}

interface Admitted {
  user: User;
  sessionId: string;
  token: string;
  /** The access token's expiry (epoch ms): the socket closes then. */
  expiresAt: number;
  channel: Channel;
  since?: number;
}

type Admission = Admitted | { code: number; reason: string };

const BEARER_PROTOCOL = 'bearer.';

/** The `bearer.<token>` subprotocol offered by a browser, which cannot set headers. */
function bearerProtocol(protocols: Iterable<string>): string | undefined {
  for (const protocol of protocols) if (protocol.startsWith(BEARER_PROTOCOL) && protocol.length > BEARER_PROTOCOL.length) return protocol;
  return undefined;
}

/** The access token: Authorization header, then ?token=, then the subprotocol. */
function tokenOf(req: http.IncomingMessage, url: URL): string | undefined {
  const header = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (header) return header[1];
  const query = url.searchParams.get('token');
  if (query) return query;
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return bearerProtocol(offered)?.slice(BEARER_PROTOCOL.length);
}

/**
 * A fan-out hands the same frame object to every socket it reaches: it is encoded once, and a
 * recipient's `seq` is spliced onto the end (the same bytes as `{ ...frame, seq }`).
 */
const encoded = new WeakMap<Outbound, string>();
function encode(frame: Outbound, seq?: number): string {
  let json = encoded.get(frame);
  if (json === undefined) {
    json = JSON.stringify(frame);
    encoded.set(frame, json);
  }
  return seq === undefined ? json : `${json.slice(0, -1)},"seq":${seq}}`;
}

const isFrameObject = (value: unknown): value is Record<string, unknown> & { type: string } =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string';

export class WsTransport {
  private readonly options: WsTransportOptions;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly server: http.Server,
    private readonly deps: WsTransportDeps,
    options: Partial<WsTransportOptions> = {},
  ) {
    this.options = { ...WS_DEFAULTS, ...options };
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxPayloadBytes,
      // Echo the bearer subprotocol: a browser that offered protocols fails without one chosen.
      handleProtocols: (protocols) => bearerProtocol(protocols) ?? false,
    });
    server.on('upgrade', this.onUpgrade);
    this.heartbeat = setInterval(() => this.beat(), this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    void this.upgrade(req, socket, head);
  };

  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!/^\/ws(\/|$)/.test(url.pathname)) {
      // Not ours; unless another transport answers it, nobody would.
      if (!this.deps.claimedElsewhere?.(url.pathname)) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // The socket has no error listener while we authenticate; a reset must not crash the process.
    socket.on('error', () => socket.destroy());
    let admission: Admission;
    try {
      admission = await this.admit(req, url);
    } catch (err) {
      this.deps.logger.error({ err }, 'websocket admission failed');
      admission = { code: 1011, reason: 'Internal error.' };
    }
    if (this.closing || socket.destroyed) {
      socket.destroy();
      return;
    }
    // Refusals too complete the handshake, then close with a code: browsers hide the HTTP status.
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if ('code' in admission) ws.close(admission.code, admission.reason.slice(0, 120));
      else this.attach(ws, admission);
    });
  }

  /** Authenticates and opens the endpoint's channel, or says which close code refuses it. */
  private async admit(req: http.IncomingMessage, url: URL): Promise<Admission> {
    const match = matchEndpoint(url.pathname);
    if (!match) return { code: CLOSE.notFound, reason: 'Not found.' };
    const token = tokenOf(req, url);
    if (!token) return { code: CLOSE.unauthorized, reason: 'Authentication credentials were not provided.' };
    const { services, bus, sendLimiter } = this.deps;
    try {
      const { user, sessionId, expiresAt } = await services.tokens.authenticate(token);
      const channel = await match.endpoint.open(user, match.params, { services, bus, sendLimiter });
      const since = url.searchParams.get('since');
      if (since === null) return { user, sessionId, token, expiresAt, channel };
      if (!/^\d{1,15}$/.test(since)) return { code: CLOSE.badRequest, reason: 'since: A valid integer is required.' };
      return { user, sessionId, token, expiresAt, channel, since: Number(since) };
    } catch (err) {
      // AuthenticationFailed → 4401, PermissionDenied → 4403, NotFound → 4404.
      if (err instanceof AppError) return { code: 4000 + err.status, reason: err.message };
      throw err;
    }
  }

  private attach(ws: WebSocket, { user, sessionId, token, expiresAt, channel, since }: Admitted): void {
    const client: Client = {
      ws,
      user,
      channel,
      connection: new ResumableConnection({ userId: user.id, send: (frame, seq) => this.send(client, frame, seq), close: (code, reason) => ws.close(code, reason) }),
      alive: true,
      throttle: new Throttle(this.options.burst, this.options.perSecond, this.options.maxStrikes),
      queue: Promise.resolve(),
      unguard: () => undefined,
    };
    this.clients.add(client);
    const roomNames = [rooms.session(sessionId), ...channel.rooms];
    this.deps.hub.add(client.connection, roomNames);
    client.unguard = guardSession(client.connection, { token, expiresAt }, this.deps.services.tokens, this.deps.logger);
    this.deps.presence.connected(user);
    if (since !== undefined) {
      // On the frame queue: the client's own frames are handled once it has caught up.
      client.queue = client.connection.replay(this.deps.services.deps.events, since, roomNames, resyncFrame).catch((err: unknown) => {
        this.deps.logger.error({ err, userId: user.id }, 'websocket replay failed');
        ws.close(1011, 'Internal error.');
      });
    }
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => this.receive(client, data, isBinary));
    ws.on('close', () => this.detach(client));
    ws.on('error', (err) => this.deps.logger.debug({ err, userId: user.id }, 'websocket error'));
  }

  /** Idempotent: runs on 'close', and directly on shutdown so presence is written in time. */
  private detach(client: Client): void {
    if (!this.clients.delete(client)) return;
    client.unguard();
    this.deps.hub.remove(client.connection);
    this.deps.presence.disconnected(client.user);
  }

  private receive(client: Client, data: RawData, isBinary: boolean): void {
    const verdict = client.throttle.check();
    if (verdict !== 'ok') return this.refuseForRate(client, verdict, 'Too many messages; slow down.');
    if (isBinary) return this.send(client, errorFrame('Frames must be JSON text.'));
    let frame: unknown;
    try {
      // binaryType is 'nodebuffer', so a text frame arrives as one Buffer.
      frame = JSON.parse((data as Buffer).toString('utf8'));
    } catch {
      return this.send(client, errorFrame('Invalid JSON.'));
    }
    if (!isFrameObject(frame)) return this.send(client, errorFrame('A frame must be a JSON object with a "type".'));
    // hasOwn: a type like "constructor" must not reach Object.prototype.
    const handler = Object.hasOwn(client.channel.handlers, frame.type) ? client.channel.handlers[frame.type] : undefined;
    if (!handler) return this.send(client, errorFrame(`Unknown message type "${frame.type.slice(0, 40)}".`));
    const parsed = frame;
    client.queue = client.queue.then(() => this.run(client, handler, parsed));
  }

  private async run(client: Client, handler: FrameHandler, frame: Record<string, unknown>): Promise<void> {
    try {
      const reply = await handler(frame);
      if (reply) this.send(client, reply);
    } catch (err) {
      // The user's sending budget (shared with REST and their other sockets) ran out.
      if (err instanceof Throttled) return this.refuseForRate(client, client.throttle.strike(), err.message);
      const refusal = refusalFrame(err);
      if (!refusal) this.deps.logger.error({ err, userId: client.user.id }, 'websocket frame failed');
      this.send(client, refusal ?? errorFrame('Internal error.'));
    }
  }

  /** Says why a frame was refused; a client that keeps flooding is then disconnected. */
  private refuseForRate(client: Client, verdict: 'refuse' | 'close', message: string): void {
    this.send(client, errorFrame(message));
    if (verdict === 'close') client.ws.close(CLOSE.throttled, 'Too many messages.');
  }

  private send(client: Client, frame: Outbound, seq?: number): void {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    // A client that stops reading must not make the server buffer without bound.
    if (client.ws.bufferedAmount > this.options.maxBufferedBytes) {
      client.ws.terminate();
      return;
    }
    client.ws.send(encode(frame, seq));
  }

  private beat(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.ws.ping();
    }
  }

  /** Stops accepting, closes every socket (1001 Going Away) and waits for frames being handled. */
  async close(): Promise<void> {
    this.closing = true;
    this.server.off('upgrade', this.onUpgrade);
    clearInterval(this.heartbeat);
    const clients = [...this.clients];
    const closed = clients.map((c) => new Promise<void>((resolve) => (c.ws.readyState === WebSocket.CLOSED ? resolve() : c.ws.once('close', () => resolve()))));
    for (const client of clients) {
      this.detach(client);
      client.ws.close(1001, 'Server shutting down.');
    }
    await Promise.all(clients.map((c) => c.queue));
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (grace = setTimeout(resolve, this.options.closeGraceMs)))]);
    clearTimeout(grace);
    for (const client of clients) client.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
