/**
 * What every realtime connection goes through, whatever carries it (raw ws, socket.io):
 * authentication and `since`, its rooms in the hub, presence, the session's life (revocation,
 * token expiry), the replay of what it missed, its requests handled one at a time and a
 * per-connection rate. Transports are adapters: they read the token and the requests off
 * their socket, write frames back through a Wire and say how a refusal looks on their wire.
 */
import type { Logger } from 'pino';
import type { User } from '../models/index.js';
import type { Services } from '../services/index.js';
import { AuthenticationFailed, ValidationError } from '../errors.js';
import { rooms, type Hub } from './hub.js';
import type { PresenceTracker } from './presence.js';
import type { Outbound } from './frames.js';
import type { EventLog } from '../events/outbox.js';
import type { EventBus } from '../events/bus.js';
import { refusal, type ChannelDeps, type Refusal } from './channels.js';
import { Throttle } from './tokenBucket.js';
import { ResumableConnection } from './resume.js';
import { guardSession } from './sessionGuard.js';

/** How the core reaches one client's socket. */
export interface Wire {
  /** Writes a frame (or socket.io event); `seq` when it announces a logged event. */
  send(frame: Outbound, seq?: number): void;
  /** Closes with a code the client is told (revocation, expiry, flood). */
  close(code: number, reason: string): void;
  /** Drops the client after a failure on our side. */
  fail(): void;
}

/** An authenticated client, before it is connected. */
export interface Grant {
  user: User;
  sessionId: string;
  /** The access token it was admitted with. */
  token: string;
  /** The access token's expiry (epoch ms): the connection closes then. */
  expiresAt: number;
  /** The last seq the client saw: what came after it is replayed first. */
  since?: number;
  /**
   * The user's latest seq when the client was admitted (before it is told it is connected):
   * it hears their events after this one live, and the older ones only by resuming.
   */
  seq: number;
}

export interface ConnectionsDeps {
  hub: Hub;
  presence: PresenceTracker;
  services: Services;
  bus: EventBus;
  logger: Logger;
}

/** What a transport needs: the core's dependencies and the channels' (channels.ts). */
export type TransportDeps = ConnectionsDeps & ChannelDeps;

export interface ConnectionsOptions {
  /** Names the transport in logs. */
  label: string;
  /** Requests a client may send in a burst, and refilled per second. */
  burst: number;
  perSecond: number;
  /** Requests refused for rate without calming down before the client is to be closed. */
  maxStrikes: number;
  /** What a client that missed too much to replay is sent instead. */
  resync: (latestSeq: number) => Outbound;
}

const SINCE = /^\d{1,15}$/;

/** The `since` a client asked to resume from (a number, or its digits as text); a 400 when it is not one. */
export function readSince(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const valid = (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) || (typeof value === 'string' && SINCE.test(value));
  if (!valid) throw ValidationError.field('since', 'A valid integer is required.');
  return Number(value);
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** One client's connection, whatever socket carries it. */
export class Connection<W extends Wire> {
  /** Also counts refusals of the user's shared sending budget (`strike`). */
  readonly throttle: Throttle;
  /** Requests are handled one at a time, so a client's messages are stored in the order sent. */
  private queue: Promise<void> = Promise.resolve();
  /** Stops watching the session's expiry. */
  private unguard: () => void = () => undefined;
  private readonly hubConnection: ResumableConnection;

  constructor(
    readonly user: User,
    readonly wire: W,
    private readonly options: ConnectionsOptions,
    private readonly logger: Logger,
  ) {
    this.throttle = new Throttle(options.burst, options.perSecond, options.maxStrikes);
    this.hubConnection = new ResumableConnection({ userId: user.id, send: (frame, seq) => wire.send(frame, seq), close: (code, reason) => wire.close(code, reason) });
  }

  /**
   * Runs `work` after the requests before it. A refusal in the API's words goes to `refused`;
   * so does an unexpected error (logged, with no refusal to show).
   */
  request(work: () => Promise<void>, refused: (err: unknown, refusal: Refusal | undefined) => void): void {
    this.queue = this.queue.then(async () => {
      try {
        await work();
      } catch (err) {
        const why = refusal(err);
        if (!why) this.logger.error({ err, userId: this.user.id }, `${this.options.label} request failed`);
        refused(err, why);
      }
    });
  }

  /** Resolves once the requests queued so far are handled. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Joins the rooms, then guards the session: a revocation that landed meanwhile is caught. */
  join(hub: Hub, tokens: Services['tokens'], { token, expiresAt, seq }: Grant, roomNames: string[]): void {
    hub.add(this.hubConnection, roomNames, seq);
    this.unguard = guardSession(this.hubConnection, { token, expiresAt }, tokens, this.logger);
  }

  /** Replays what `roomNames` carried after `since`, on the request queue: the client's own requests wait until it has caught up. */
  resume(log: EventLog, since: number, roomNames: string[]): void {
    this.queue = this.hubConnection.replay(log, since, roomNames, this.options.resync).catch((err: unknown) => {
      this.logger.error({ err, userId: this.user.id }, `${this.options.label} replay failed`);
      this.wire.fail();
    });
  }

  leave(hub: Hub): void {
    this.unguard();
    hub.remove(this.hubConnection);
  }
}

/** A user counted online for a connection being opened (Connections.hold). */
export interface Hold {
  /** Settles once every process counts the user online. */
  readonly held: Promise<void>;
  /** Gives the hold back; only once, however often it is called. */
  release(): void;
}

/** The live connections of one transport. */
export class Connections<W extends Wire> {
  /** Each live connection and its presence hold. */
  private readonly live = new Map<Connection<W>, Hold>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: ConnectionsDeps,
    private readonly options: ConnectionsOptions,
  ) {
    // A connection acts as the user it was opened by for as long as it lives: a profile change
    // (a new username) must reach what it sends next, on whichever process it was made.
    this.unsubscribe = deps.bus.subscribe('user.updated', ({ userId }) => this.refresh(userId));
  }

  /** Reloads the user of `userId`'s live connections in place (their handlers hold that object). */
  private async refresh(userId: number): Promise<void> {
    const users = new Set([...this.live.keys()].filter((c) => c.user.id === userId).map((c) => c.user));
    for (const user of users) {
      // A user deleted meanwhile has no row to reload: their connections are closing anyway.
      await user.reload().catch((err: unknown) => this.deps.logger.debug({ err, userId }, 'could not reload a connected user'));
    }
  }

  /** Who holds `token`, and the seq they are at; AuthenticationFailed when there is none or it is not valid. */
  async authenticate(token: string | undefined): Promise<Grant> {
    if (!token) throw new AuthenticationFailed();
    const { services } = this.deps;
    const granted = await services.tokens.authenticate(token);
    return { ...granted, token, seq: await services.deps.events.latest(granted.user.id) };
  }

  /**
   * Counts `user` online for a connection about to open. A transport takes the hold before it
   * tells the client it is connected, and waits for `held`: a client whose connection is open is
   * then online on every process. Otherwise a user moving from one process to another could
   * close the old connection before the new one's hold was recorded, and show offline a moment.
   */
  hold(user: User): Hold {
    const { presence } = this.deps;
    let released = false;
    return {
      held: presence.connected(user),
      release: () => {
        if (!released) presence.disconnected(user);
        released = true;
      },
    };
  }

  /**
   * Connects an authenticated client: its session's room and `channelRooms` in the hub, its
   * session guarded, presence held (by `hold`, or now), and what it missed since `grant.since`
   * replayed first.
   */
  open(grant: Grant, channelRooms: string[], wire: W, hold: Hold = this.hold(grant.user)): Connection<W> {
    const { hub, services, logger } = this.deps;
    const connection = new Connection(grant.user, wire, this.options, logger);
    this.live.set(connection, hold);
    const roomNames = [rooms.session(grant.sessionId), ...channelRooms];
    connection.join(hub, services.tokens, grant, roomNames);
    if (grant.since !== undefined) connection.resume(services.deps.events, grant.since, roomNames);
    return connection;
  }

  /** Idempotent: runs when the socket closes, and directly on shutdown so presence is written in time. */
  detach(connection: Connection<W>): void {
    const hold = this.live.get(connection);
    if (!hold) return;
    this.live.delete(connection);
    connection.leave(this.deps.hub);
    hold.release();
  }

  [Symbol.iterator](): IterableIterator<Connection<W>> {
    return this.live.keys();
  }

  /** Detaches every connection, lets the transport say goodbye on each, and waits for requests being handled. */
  async close(goodbye: (connection: Connection<W>) => void): Promise<void> {
    this.unsubscribe();
    const all = [...this.live.keys()];
    for (const connection of all) {
      this.detach(connection);
      goodbye(connection);
    }
    await Promise.all(all.map((c) => c.settled()));
  }
}
