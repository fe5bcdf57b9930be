/**
 * The client of the socket.io channel (src/schemas/protocol.ts), for the TUI and any other
 * command that wants live events. It authenticates with the API client's access token,
 * remembers the last `seq` it saw and, after a drop, reconnects (socket.io's own backoff) with
 * `auth.since`, so the server replays what was missed; it reports how many events that was.
 * Events without a `seq` (presence, typing, post:created) are live only and never replayed.
 *
 * Before every handshake it asks GET /api/events/ for the latest seq: that request goes
 * through the API client, so an expired access token is refreshed before the socket uses it,
 * and its answer tells which replayed events were missed ones.
 */
import { EventEmitter } from 'node:events';
import crypto from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { SessionExpiredError, type JvaiClient } from './api.js';
import {
  SOCKET_IO_PATH,
  type Ack,
  type ClientToServerEvents,
  type DirectMessagePayload,
  type GroupMessagePayload,
  type ServerEventName,
  type ServerToClientEvents,
  type SocketAuth,
  type TypingRequest,
} from '../../src/schemas/protocol.js';

export type RealtimeSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export type RealtimeStatus =
  | { state: 'connecting' }
  /** `missed` is set after a reconnect once the replay is in (null: too much was missed, re-fetched instead). */
  | { state: 'connected'; missed?: number | null }
  | { state: 'reconnecting'; reason: string }
  /** Given up: the session is over or the server refuses us. */
  | { state: 'closed'; reason: string };

/** Every server event by name, plus the connection's status. */
export type RealtimeEvents = { [K in ServerEventName]: Parameters<ServerToClientEvents[K]> } & { status: [RealtimeStatus] };

export interface RealtimeOptions {
  /** Resume after this seq (default: from the latest when first connecting). */
  since?: number;
  /** First reconnection delay; doubles up to reconnectionDelayMaxMs. Default 1 s. */
  reconnectionDelayMs?: number;
  reconnectionDelayMaxMs?: number;
  /** How long one acknowledged request may take before it is retried. Default 10 s. */
  ackTimeoutMs?: number;
}

/** A request the server refused or that got no answer: the API's message (and status when it answered). */
export class RealtimeRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'RealtimeRequestError';
  }
}

/** How long after a reconnect the replay may take before it counts as done anyway. */
const CATCH_UP_GRACE_MS = 3_000;
const SEND_ATTEMPTS = 3;

interface EventsProbe {
  latest_seq: number;
}

export class RealtimeClient extends EventEmitter<RealtimeEvents> {
  /** The underlying socket, once start() ran (exposed for tools and tests). */
  socket: RealtimeSocket | null = null;
  status: RealtimeStatus = { state: 'connecting' };
  /** The last seq received: where a reconnect resumes. */
  private seq: number | undefined;
  private everConnected = false;
  /** After a reconnect: replayed events with a seq up to `target` are the missed ones. */
  private catchUp: { target: number; count: number; timer: NodeJS.Timeout | null } | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly api: JvaiClient,
    private readonly options: RealtimeOptions = {},
  ) {
    super();
    this.seq = options.since;
  }

  /** The last seq seen (for a later `since`). */
  get lastSeq(): number | undefined {
    return this.seq;
  }

  /** Connects; progress and failures arrive as 'status' events. */
  start(): void {
    const server = new URL(this.api.server);
    const socket: RealtimeSocket = io(server.origin, {
      path: server.pathname.replace(/\/+$/, '') + SOCKET_IO_PATH,
      transports: ['websocket'],
      reconnectionDelay: this.options.reconnectionDelayMs ?? 1_000,
      reconnectionDelayMax: this.options.reconnectionDelayMaxMs ?? 10_000,
      randomizationFactor: this.options.reconnectionDelayMs === undefined ? 0.5 : 0,
      // A function, so every attempt sends the current token and seq.
      auth: (cb) =>
        void this.handshake().then((auth) => {
          if (auth) cb(auth as unknown as object);
        }),
    });
    this.socket = socket;
    socket.on('connect', () => this.onConnect());
    socket.on('disconnect', (reason) => this.onDisconnect(reason));
    socket.on('connect_error', (err) => this.onConnectError(err as Error & { data?: { status?: number } }));
    socket.onAny((event: ServerEventName, data: unknown) => this.onEvent(event, data));
  }

  /** Disconnects for good. */
  close(): void {
    this.closed = true;
    this.clearTimers();
    this.socket?.disconnect();
    this.setStatus({ state: 'closed', reason: 'closed' });
  }

  // ---- requests ----

  /** Sends a direct message; retried with the same client_id (so at most one is stored) until acknowledged. */
  sendDm(to: number, content: string, clientId: string = crypto.randomUUID()): Promise<DirectMessagePayload> {
    return this.request('dm:send', { to, content, client_id: clientId }).then((r) => r.message);
  }

  sendGroup(groupId: number, content: string, clientId: string = crypto.randomUUID()): Promise<GroupMessagePayload> {
    return this.request('group:send', { group_id: groupId, content, client_id: clientId }).then((r) => r.message);
  }

  /** Marks a received direct message read (the sender gets a dm:read receipt). */
  markRead(messageId: number): Promise<DirectMessagePayload> {
    return this.request('dm:read', { message_id: messageId }).then((r) => r.message);
  }

  /** Best effort: a lost typing notice does not matter, so it is neither acknowledged nor retried. */
  typing(request: TypingRequest): void {
    if (this.socket?.connected) this.socket.emit('typing', request);
  }

  private async request<E extends 'dm:send' | 'group:send' | 'dm:read'>(
    event: E,
    payload: Parameters<ClientToServerEvents[E]>[0],
  ): Promise<Extract<Parameters<Parameters<ClientToServerEvents[E]>[1]>[0], { ok: true }>> {
    const socket = this.socket;
    if (!socket) throw new RealtimeRequestError('not connected', null);
    const timeout = this.options.ackTimeoutMs ?? 10_000;
    for (let attempt = 1; ; attempt++) {
      let result: Ack;
      try {
        // While disconnected socket.io buffers the request and sends it on reconnect.
        result = await (socket.timeout(timeout).emitWithAck as (e: string, p: unknown) => Promise<Ack>)(event, payload);
      } catch {
        if (attempt < SEND_ATTEMPTS && !this.closed) continue;
        throw new RealtimeRequestError('no answer from the server', null);
      }
      if (!result.ok) throw new RealtimeRequestError(result.error, result.status);
      return result as never;
    }
  }

  // ---- connection ----

  /** The auth of the next handshake; null when the session is over. */
  private async handshake(): Promise<SocketAuth | null> {
    let latest: number | null = null;
    try {
      latest = (await this.api.request<EventsProbe>('GET', '/api/events/', { query: { since: this.seq ?? 0, limit: 1 } })).latest_seq;
    } catch (err) {
      if (err instanceof SessionExpiredError) {
        this.giveUp(err.message);
        return null;
      }
      // Anything else (the server is down): try anyway; the attempt fails and is retried.
    }
    if (latest !== null) {
      if (this.seq === undefined) this.seq = latest;
      else if (this.everConnected) this.catchUp = { target: latest, count: 0, timer: null };
    }
    return { token: this.api.tokens?.access ?? '', ...(this.seq === undefined ? {} : { since: this.seq }) };
  }

  private onConnect(): void {
    if (!this.everConnected || !this.catchUp) {
      this.everConnected = true;
      this.catchUp = null;
      this.setStatus({ state: 'connected' });
      return;
    }
    const catchUp = this.catchUp;
    if (this.seq === undefined || this.seq >= catchUp.target) this.finishCatchUp(0);
    // Some logged events are not for this channel: do not wait for them forever.
    else catchUp.timer = setTimeout(() => this.finishCatchUp(catchUp.count), CATCH_UP_GRACE_MS);
  }

  private finishCatchUp(missed: number | null): void {
    if (this.catchUp?.timer) clearTimeout(this.catchUp.timer);
    this.catchUp = null;
    this.setStatus({ state: 'connected', missed });
  }

  private onDisconnect(reason: string): void {
    if (this.closed) return;
    this.setStatus({ state: 'reconnecting', reason });
    // The server hung up on us (shutdown, revoked session): socket.io leaves reconnecting to us.
    if (reason === 'io server disconnect') this.retryLater();
  }

  private onConnectError(err: Error & { data?: { status?: number } }): void {
    if (this.closed) return;
    const socket = this.socket;
    if (socket?.active) {
      // A network problem: socket.io retries by itself.
      this.setStatus({ state: 'reconnecting', reason: err.message });
      return;
    }
    // Refused by the server. A 401 is an access token that expired between the probe and the
    // handshake; the next probe refreshes it. Anything else will not get better by retrying.
    if (err.data?.status === 401) {
      this.setStatus({ state: 'reconnecting', reason: err.message });
      this.retryLater();
    } else this.giveUp(err.message);
  }

  private retryLater(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.closed) this.socket?.connect();
    }, this.options.reconnectionDelayMs ?? 1_000);
  }

  private giveUp(reason: string): void {
    this.closed = true;
    this.clearTimers();
    this.socket?.disconnect();
    this.setStatus({ state: 'closed', reason });
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.catchUp?.timer) clearTimeout(this.catchUp.timer);
    this.catchUp = null;
  }

  private onEvent(event: ServerEventName, data: unknown): void {
    const seq = (data as { seq?: unknown } | null)?.seq;
    if (event === 'resync') this.seq = (data as { latest_seq: number }).latest_seq;
    else if (typeof seq === 'number' && (this.seq === undefined || seq > this.seq)) this.seq = seq;
    (this.emit as (e: string, d: unknown) => boolean)(event, data);
    // Reported after the event itself, so listeners have it when they hear we caught up.
    const catchUp = this.catchUp;
    if (!catchUp) return;
    if (event === 'resync') this.finishCatchUp(null);
    else if (typeof seq === 'number' && seq <= catchUp.target) {
      catchUp.count++;
      if (seq === catchUp.target) this.finishCatchUp(catchUp.count);
    }
  }

  private setStatus(status: RealtimeStatus): void {
    this.status = status;
    this.emit('status', status);
  }
}
