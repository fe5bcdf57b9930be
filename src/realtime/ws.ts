/**
 * The raw WebSocket transport (the /ws/... paths; README, Realtime), on the HTTP server's 'upgrade'
 * event: an adapter over the connection core (connections.ts). It reads the token (header,
 * `?token=`, subprotocol) and `?since=<seq>`, asks the endpoint whether the user may connect,
 * and feeds client frames to the endpoint's handlers; refusals are close codes and error frames.
 * Its own protection: a payload cap, flood strikes that close with 4429 (sends also draw on the
 * user's budget), heartbeats that drop dead peers, and a bound on what a slow reader may leave
 * buffered; the session's life (revocation, token expiry: 4401) is the core's.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { AppError, Throttled } from '../errors.js';
import { CLOSE } from './hub.js';
import { matchEndpoint, type Channel, type FrameHandler } from './channels.js';
import { errorFrame, resyncFrame, type Outbound } from './frames.js';
import { bearerToken, Connections, readSince, type Connection, type Grant, type TransportDeps, type Wire } from './connections.js';

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

export interface WsTransportDeps extends TransportDeps {
  /** Upgrade paths another transport (socket.io) answers; every other non-/ws path gets a 404. */
  claimedElsewhere?: (pathname: string) => boolean;
}

/** One socket's side of its connection. */
interface WsWire extends Wire {
  ws: WebSocket;
  /** Answered the last heartbeat ping. */
  alive: boolean;
}

type Client = Connection<WsWire>;

interface Admitted {
  grant: Grant;
  channel: Channel;
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
  const header = bearerToken(req.headers.authorization);
  if (header) return header;
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
  private readonly clients: Connections<WsWire>;
  private readonly heartbeat: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly server: http.Server,
    private readonly deps: WsTransportDeps,
    options: Partial<WsTransportOptions> = {},
  ) {
    this.options = { ...WS_DEFAULTS, ...options };
    const { burst, perSecond, maxStrikes } = this.options;
    this.clients = new Connections(deps, { label: 'websocket', burst, perSecond, maxStrikes, resync: resyncFrame });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.options.maxPayloadBytes,
      // Echo the bearer subprotocol: a browser that offered protocols fails without one chosen.
      handleProtocols: (protocols) => bearerProtocol(protocols) ?? false,
    });
    // The handshake's answer waits (corked) until the connection is attached and its presence
    // recorded (Connections.hold).
    this.wss.on('headers', (_headers, req) => req.socket.cork());
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
      if ('code' in admission) {
        ws.close(admission.code, admission.reason.slice(0, 120));
        socket.uncork();
      } else void this.attach(ws, admission).finally(() => socket.uncork());
    });
  }

  /** Authenticates and opens the endpoint's channel, or says which close code refuses it. */
  private async admit(req: http.IncomingMessage, url: URL): Promise<Admission> {
    const match = matchEndpoint(url.pathname);
    if (!match) return { code: CLOSE.notFound, reason: 'Not found.' };
    try {
      const grant = await this.clients.authenticate(tokenOf(req, url));
      const channel = await match.endpoint.open(grant.user, match.params, this.deps);
      return { grant: { ...grant, since: readSince(url.searchParams.get('since')) }, channel };
    } catch (err) {
      // AuthenticationFailed → 4401, ValidationError (since) → 4400, PermissionDenied → 4403, NotFound → 4404.
      if (err instanceof AppError) return { code: 4000 + err.status, reason: err.message };
      throw err;
    }
  }

  /** Connects the socket; resolves once its presence is recorded. */
  private attach(ws: WebSocket, { grant, channel }: Admitted): Promise<void> {
    const wire: WsWire = {
      ws,
      alive: true,
      send: (frame, seq) => this.send(ws, frame, seq),
      close: (code, reason) => ws.close(code, reason),
      fail: () => ws.close(1011, 'Internal error.'),
    };
    const hold = this.clients.hold(grant.user);
    const client = this.clients.open(grant, channel.rooms, wire, hold);
    ws.on('pong', () => {
      wire.alive = true;
    });
    ws.on('message', (data, isBinary) => this.receive(client, channel, data, isBinary));
    ws.on('close', () => this.clients.detach(client));
    ws.on('error', (err) => this.deps.logger.debug({ err, userId: grant.user.id }, 'websocket error'));
    return hold.held;
  }

  private receive(client: Client, channel: Channel, data: RawData, isBinary: boolean): void {
    const reply = (frame: Outbound) => client.wire.send(frame);
    const verdict = client.throttle.check();
    if (verdict !== 'ok') return this.refuseForRate(client, verdict, 'Too many messages; slow down.');
    if (isBinary) return reply(errorFrame('Frames must be JSON text.'));
    let frame: unknown;
    try {
      // binaryType is 'nodebuffer', so a text frame arrives as one Buffer.
      frame = JSON.parse((data as Buffer).toString('utf8'));
    } catch {
      return reply(errorFrame('Invalid JSON.'));
    }
    if (!isFrameObject(frame)) return reply(errorFrame('A frame must be a JSON object with a "type".'));
    // hasOwn: a type like "constructor" must not reach Object.prototype.
    const handler: FrameHandler | undefined = Object.hasOwn(channel.handlers, frame.type) ? channel.handlers[frame.type] : undefined;
    if (!handler) return reply(errorFrame(`Unknown message type "${frame.type.slice(0, 40)}".`));
    const parsed = frame;
    client.request(
      async () => {
        const answer = await handler(parsed);
        if (answer) reply(answer);
      },
      (err, refused) => {
        // The user's sending budget (shared with REST and their other sockets) ran out.
        if (err instanceof Throttled) return this.refuseForRate(client, client.throttle.strike(), err.message);
        reply(errorFrame(refused?.message ?? 'Internal error.'));
      },
    );
  }

  /** Says why a frame was refused; a client that keeps flooding is then disconnected. */
  private refuseForRate(client: Client, verdict: 'refuse' | 'close', message: string): void {
    client.wire.send(errorFrame(message));
    if (verdict === 'close') client.wire.close(CLOSE.throttled, 'Too many messages.');
  }

  private send(ws: WebSocket, frame: Outbound, seq?: number): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    // A client that stops reading must not make the server buffer without bound.
    if (ws.bufferedAmount > this.options.maxBufferedBytes) {
      ws.terminate();
      return;
    }
    ws.send(encode(frame, seq));
  }

  private beat(): void {
    for (const { wire } of this.clients) {
      if (!wire.alive) {
        wire.ws.terminate();
        continue;
      }
      wire.alive = false;
      wire.ws.ping();
    }
  }

  /** Stops accepting, closes every socket (1001 Going Away) and waits for frames being handled. */
  async close(): Promise<void> {
    this.closing = true;
    this.server.off('upgrade', this.onUpgrade);
    clearInterval(this.heartbeat);
    const sockets = [...this.clients].map((c) => c.wire.ws);
    const closed = sockets.map((ws) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve()))));
    await this.clients.close(({ wire }) => wire.ws.close(1001, 'Server shutting down.'));
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (grace = setTimeout(resolve, this.options.closeGraceMs)))]);
    clearTimeout(grace);
    for (const ws of sockets) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
