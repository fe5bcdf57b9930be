/**
 * The realtime hub: subscribes to domain events on the bus and routes frames to the
 * connections of this process, by room. Transports (raw ws, socket.io) only authenticate,
 * register connections in rooms and write frames; the hub knows no transport.
 * With a shared (Redis) bus every process runs a hub, so an event reaches sockets everywhere.
 * Where a logged event goes is decided by one table, used both live and when a reconnecting
 * client replays the log, so a replay delivers exactly what the connection would have heard.
 * A logged event goes to its recipients' connections in each user's seq order (seqOrder.ts).
 */
import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import { LOGGED_EVENT_NAMES, type CallPayload, type DomainEventName, type DomainEvents, type LoggedEventName, type LoggedEvents } from '../events/types.js';
import type { EventLog, LoggedEvent } from '../events/outbox.js';
import type { UserService } from '../services/users.js';
import { KeyedSerial } from './serial.js';
import { SeqOrder } from './seqOrder.js';
import { callStateFrame, directMessageFrame, groupMessageFrame, incomingCallFrame, membershipFrame, presenceFrame, signalFrame, type Outbound } from './frames.js';
import { channelEvent, inboxEvents } from '../presenters/events.js';

/** Room names. One per audience, so routing is a lookup and never a per-connection filter. */
export const rooms = {
  /** Every connection opened with one login session's tokens (session revocation). */
  session: (sessionId: string) => `session:${sessionId}`,
  /** /ws/group/{id}/ sockets. */
  group: (groupId: number) => `group:${groupId}`,
  /** /ws/messages/{peer}/ sockets of either side of one conversation. */
  dm: (a: number, b: number) => `dm:${Math.min(a, b)}:${Math.max(a, b)}`,
  /** /ws/status/ sockets of a user: the presence of people they follow or share a group with. */
  status: (userId: number) => `status:${userId}`,
  /** /ws/calls/ sockets of a user. */
  calls: (userId: number) => `calls:${userId}`,
  /** socket.io connections of a user: everything the user can receive. */
  inbox: (userId: number) => `inbox:${userId}`,
};

/** The group id of a group room's name, else undefined. */
const groupOfRoom = (room: string): number | undefined => {
  const match = /^group:(\d+)$/.exec(room);
  return match ? Number(match[1]) : undefined;
};

/** Told when connections enter and leave group rooms (presence in the live room: roomPresence.ts). */
export interface GroupRoomObserver {
  entered(groupId: number, userId: number): void;
  left(groupId: number, userId: number): void;
}

/** What a transport hands the hub for each authenticated socket. */
export interface HubConnection {
  readonly userId: number;
  /** `seq`: the user's sequence number when the frame announces a logged event. */
  send(frame: Outbound, seq?: number): void;
  close(code: number, reason: string): void;
}

export const CLOSE = { badRequest: 4400, unauthorized: 4401, forbidden: 4403, notFound: 4404, throttled: 4429 } as const;

interface Delivery {
  room: string;
  frame: Outbound;
}

const toCall = (call: CallPayload, frame: Outbound): Delivery[] => [
  { room: rooms.calls(call.caller.id), frame },
  { room: rooms.calls(call.callee.id), frame },
];

/** The raw ws endpoints' frames of each logged event, by room (README, Realtime). */
const endpointRoutes: { [K in LoggedEventName]: (e: LoggedEvents[K]) => Delivery[] } = {
  'dm.created': ({ message }) => [{ room: rooms.dm(message.sender, message.receiver), frame: directMessageFrame(message) }],
  // The raw ws endpoints have no read-receipt frame.
  'dm.read': () => [],
  'group_message.created': ({ message }) => [{ room: rooms.group(message.group), frame: groupMessageFrame(message) }],
  // Membership of the group; `user-joined`/`user-left` are presence in its live room (see the hub).
  'group.member_joined': (e) => [{ room: rooms.group(e.groupId), frame: membershipFrame('member-joined', e) }],
  'group.member_left': (e) => [{ room: rooms.group(e.groupId), frame: membershipFrame('member-left', e) }],
  // Its sockets are closed instead (see the hub).
  'group.deleted': () => [],
  'call.started': ({ call }) => [{ room: rooms.calls(call.callee.id), frame: incomingCallFrame(call) }],
  // Both sides hear every change: the other participant, and the actor's other devices.
  'call.accepted': ({ call, byUserId }) => toCall(call, callStateFrame('call_accepted', call.id, byUserId)),
  'call.rejected': ({ call, byUserId }) => toCall(call, callStateFrame('call_rejected', call.id, byUserId)),
  'call.ended': ({ call, byUserId }) => toCall(call, callStateFrame('call_ended', call.id, byUserId)),
  // /ws/calls/ has no "missed" frame: the call simply ended, by whoever hung up, or by the
  // callee's silence when the ring timed out.
  'call.missed': ({ call, byUserId }) => toCall(call, callStateFrame('call_ended', call.id, byUserId ?? call.callee.id)),
};

/** The frame of a logged event in each room it goes to, for the given recipients (the users it was logged for). */
function loggedFrames<K extends LoggedEventName>(name: K, payload: LoggedEvents[K], recipients: number[]): Map<string, Outbound> {
  const frame = inboxEvents[name](payload);
  const frames = new Map(endpointRoutes[name](payload).map(({ room, frame }) => [room, frame]));
  for (const userId of recipients) frames.set(rooms.inbox(userId), frame);
  return frames;
}

/** The frames a connection listening to `roomNames` hears of an event. */
function framesIn(frames: ReadonlyMap<string, Outbound>, roomNames: Iterable<string>): Outbound[] {
  const heard: Outbound[] = [];
  for (const room of roomNames) {
    const frame = frames.get(room);
    if (frame) heard.push(frame);
  }
  return heard;
}

/** What one logged event of `userId` replays as on a connection listening to `roomNames`. */
export function replayFrames(event: LoggedEvent, userId: number, roomNames: Iterable<string>): Outbound[] {
  return framesIn(loggedFrames(event.name, event.payload, [userId]), roomNames);
}

export interface HubDeps {
  bus: EventBus;
  users: Pick<UserService, 'presenceAudience' | 'postAudience'>;
  /** Where events that never came off the bus are read from. */
  log: Pick<EventLog, 'since'>;
  logger: Logger;
  groupRooms?: GroupRoomObserver;
}

export class Hub {
  private readonly members = new Map<string, Set<HubConnection>>();
  private readonly joined = new Map<HubConnection, string[]>();
  private readonly byUser = new Map<number, Set<HubConnection>>();
  private readonly unsubscribers: (() => void)[] = [];
  /** Presence and post fan-out await a query; per user they must still arrive in event order. */
  private readonly fanOut: KeyedSerial<number>;
  /** Logged events reach a user's connections in seq order, whichever process made them. */
  private readonly order: SeqOrder;
  private readonly users: HubDeps['users'];
  private readonly logger: Logger;
  private readonly groupRooms?: GroupRoomObserver;

  constructor({ bus, users, log, logger, groupRooms }: HubDeps) {
    this.users = users;
    this.logger = logger;
    this.groupRooms = groupRooms;
    this.order = new SeqOrder(log, (userId, event) => this.deliverTo(userId, loggedFrames(event.name, event.payload, [userId]), event.seq), logger);
    this.fanOut = new KeyedSerial((err) => logger.error({ err }, 'realtime fan-out failed'));
    // A failing handler must never reach the publisher: an in-process bus calls us inside publish().
    const on = <K extends DomainEventName>(name: K, handler: (payload: DomainEvents[K]) => void) => {
      this.unsubscribers.push(
        bus.subscribe(name, (payload) => {
          try {
            handler(payload);
          } catch (err) {
            logger.error({ err, event: name }, 'realtime event handling failed');
          }
        }),
      );
    };

    for (const name of LOGGED_EVENT_NAMES) {
      on(name, ({ seqs, ...payload }) => {
        const recipients = Object.keys(seqs).map(Number).filter((userId) => this.byUser.has(userId));
        if (!recipients.length) return;
        const frames = loggedFrames(name, payload as LoggedEvents[typeof name], recipients);
        for (const userId of recipients) {
          const seq = seqs[userId]!;
          this.order.offer(userId, seq, () => this.deliverTo(userId, frames, seq));
        }
      });
    }
    // Someone who left is no longer a member: their open group sockets must stop receiving.
    on('group.member_left', (e) => this.closeRoom(rooms.group(e.groupId), CLOSE.forbidden, 'You left this group.', e.userId));
    on('group.deleted', (e) => this.closeRoom(rooms.group(e.groupId), CLOSE.notFound, 'Not found.'));

    on('call.signal', (e) => {
      this.deliver(rooms.calls(e.toUserId), signalFrame(e));
      this.deliver(rooms.inbox(e.toUserId), channelEvent('call:signal', signalFrame(e)));
    });
    on('typing', (e) => {
      const frame = channelEvent('typing', { from_user: e.fromUserId, username: e.username, to_user: e.toUserId, group_id: e.groupId, is_typing: e.isTyping });
      for (const userId of e.recipients) this.deliver(rooms.inbox(userId), frame);
    });

    on('presence.changed', (e) =>
      this.fanOut.run(e.userId, async () => {
        const frame = presenceFrame(e);
        const { type: _type, ...data } = frame;
        const event = channelEvent('presence', data);
        for (const userId of await this.users.presenceAudience(e.userId)) {
          this.deliver(rooms.status(userId), frame);
          this.deliver(rooms.inbox(userId), event);
        }
      }),
    );

    // Only the socket.io inbox: the raw ws endpoints have no post frame. Not logged, so a
    // client that was away re-reads its feed over REST.
    on('post.created', (e) =>
      this.fanOut.run(e.authorId, async () => {
        const audience = await this.users.postAudience(e.authorId);
        if (!audience) return;
        const event = channelEvent('post:created', { post_id: e.postId, author_id: e.authorId, author_username: audience.username });
        for (const userId of [e.authorId, ...audience.followers]) this.deliver(rooms.inbox(userId), event);
      }),
    );

    // Not to the one who came or went: they know, and their other connections are not in the room.
    on('group.presence', (e) => this.deliver(rooms.group(e.groupId), membershipFrame(e.present ? 'user-joined' : 'user-left', e), e.userId));

    on('user.sessions_revoked', (e) => {
      for (const sessionId of e.sessionIds) this.revoke(sessionId);
    });
  }

  /** Closes the connections of a revoked session (idempotent). */
  revoke(sessionId: string): void {
    this.closeRoom(rooms.session(sessionId), CLOSE.unauthorized, 'Session revoked.');
  }

  /**
   * Registers a connection in rooms; call remove() when it goes away. `seq`: its user's latest
   * seq when it was admitted. If it is their first connection here, their events after it reach
   * their connections in order (the older ones come by resuming).
   */
  add(connection: HubConnection, roomNames: string[], seq: number): void {
    this.joined.set(connection, roomNames);
    const own = this.byUser.get(connection.userId);
    if (own) own.add(connection);
    else {
      this.byUser.set(connection.userId, new Set([connection]));
      this.order.track(connection.userId, seq);
    }
    for (const room of roomNames) {
      let set = this.members.get(room);
      if (!set) this.members.set(room, (set = new Set()));
      set.add(connection);
      const groupId = groupOfRoom(room);
      if (groupId !== undefined) this.groupRooms?.entered(groupId, connection.userId);
    }
  }

  remove(connection: HubConnection): void {
    for (const room of this.joined.get(connection) ?? []) {
      const set = this.members.get(room);
      set?.delete(connection);
      if (set?.size === 0) this.members.delete(room);
      const groupId = groupOfRoom(room);
      if (groupId !== undefined) this.groupRooms?.left(groupId, connection.userId);
    }
    this.joined.delete(connection);
    const own = this.byUser.get(connection.userId);
    if (own?.delete(connection) && !own.size) {
      this.byUser.delete(connection.userId);
      this.order.untrack(connection.userId);
    }
  }

  /** Sends a logged event's frames to the user's connections in the rooms they go to. */
  private deliverTo(userId: number, frames: ReadonlyMap<string, Outbound>, seq: number): void {
    for (const connection of this.byUser.get(userId) ?? []) {
      for (const frame of framesIn(frames, this.joined.get(connection) ?? [])) this.send(connection, frame, seq);
    }
  }

  /** Sends a frame to every local connection in a room (but `exceptUserId`'s). */
  private deliver(room: string, frame: Outbound, exceptUserId?: number): void {
    for (const connection of this.members.get(room) ?? []) {
      if (connection.userId !== exceptUserId) this.send(connection, frame);
    }
  }

  private send(connection: HubConnection, frame: Outbound, seq?: number): void {
    try {
      connection.send(frame, seq);
    } catch (err) {
      this.logger.warn({ err, userId: connection.userId }, 'realtime send failed');
    }
  }

  /** Closes the connections in a room (only one user's, when given). */
  private closeRoom(room: string, code: number, reason: string, userId?: number): void {
    // Copied first: closing removes connections from the set being walked.
    for (const connection of [...(this.members.get(room) ?? [])]) {
      if (userId === undefined || connection.userId === userId) connection.close(code, reason);
    }
  }

  /** Stops listening to the bus and waits for fan-out in progress. */
  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    await this.fanOut.idle();
  }
}
