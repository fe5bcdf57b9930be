/**
 * The realtime hub: subscribes to domain events on the bus and routes the seed's frames to
 * the connections of this process, by room. Transports (raw ws today, socket.io later) only
 * authenticate, register connections in rooms and write frames; the hub knows no transport.
 * With a shared (Redis) bus every process runs a hub, so an event reaches sockets everywhere.
 */
import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import type { CallPayload, DomainEventName, DomainEvents } from '../events/types.js';
import type { UserService } from '../services/users.js';
import { KeyedSerial } from './serial.js';
import {
  callStateFrame,
  directMessageFrame,
  groupMessageFrame,
  incomingCallFrame,
  membershipFrame,
  presenceFrame,
  signalFrame,
  type Frame,
} from './frames.js';

/** Room names. One per audience, so routing is a lookup and never a per-connection filter. */
export const rooms = {
  /** Every connection of a user, whatever the endpoint (session revocation). */
  user: (userId: number) => `user:${userId}`,
  /** /ws/group/{id}/ sockets. */
  group: (groupId: number) => `group:${groupId}`,
  /** /ws/messages/{peer}/ sockets of either side of one conversation. */
  dm: (a: number, b: number) => `dm:${Math.min(a, b)}:${Math.max(a, b)}`,
  /** /ws/status/ sockets of a user: the presence of people they follow or share a group with. */
  status: (userId: number) => `status:${userId}`,
  /** /ws/calls/ sockets of a user. */
  calls: (userId: number) => `calls:${userId}`,
};

/** What a transport hands the hub for each authenticated socket. */
export interface HubConnection {
  readonly userId: number;
  send(frame: Frame): void;
  close(code: number, reason: string): void;
}

export const CLOSE = { unauthorized: 4401, forbidden: 4403, notFound: 4404, throttled: 4429 } as const;

export class Hub {
  private readonly members = new Map<string, Set<HubConnection>>();
  private readonly joined = new Map<HubConnection, string[]>();
  private readonly unsubscribers: (() => void)[] = [];
  /** Presence fan-out awaits a query; per user it must still arrive in event order. */
  private readonly presenceQueue: KeyedSerial<number>;

  constructor(
    bus: EventBus,
    private readonly users: Pick<UserService, 'presenceAudience'>,
    private readonly logger: Logger,
  ) {
    this.presenceQueue = new KeyedSerial((err) => logger.error({ err }, 'presence fan-out failed'));
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

    on('dm.created', ({ message }) => this.deliver(rooms.dm(message.sender, message.receiver), directMessageFrame(message)));

    on('group_message.created', ({ message }) => this.deliver(rooms.group(message.group), groupMessageFrame(message)));
    on('group.member_joined', (e) => this.deliver(rooms.group(e.groupId), membershipFrame('user-joined', e)));
    on('group.member_left', (e) => {
      this.deliver(rooms.group(e.groupId), membershipFrame('user-left', e));
      // Someone who left is no longer a member: their open group sockets must stop receiving.
      this.closeRoom(rooms.group(e.groupId), CLOSE.forbidden, 'You left this group.', e.userId);
    });
    on('group.deleted', (e) => this.closeRoom(rooms.group(e.groupId), CLOSE.notFound, 'Not found.'));

    on('call.started', ({ call }) => this.deliver(rooms.calls(call.callee.id), incomingCallFrame(call)));
    // Both sides hear every change: the other participant, and the actor's other devices.
    on('call.accepted', ({ call, byUserId }) => this.toCall(call, callStateFrame('call_accepted', call.id, byUserId)));
    on('call.rejected', ({ call, byUserId }) => this.toCall(call, callStateFrame('call_rejected', call.id, byUserId)));
    on('call.ended', ({ call, byUserId }) => this.toCall(call, callStateFrame('call_ended', call.id, byUserId)));
    // The seed has no "missed" frame: the call simply ended, by whoever hung up, or by the
    // callee's silence when the ring timed out.
    on('call.missed', ({ call, byUserId }) => this.toCall(call, callStateFrame('call_ended', call.id, byUserId ?? call.callee.id)));
    on('call.signal', (e) => this.deliver(rooms.calls(e.toUserId), signalFrame(e)));

    on('presence.changed', (e) =>
      this.presenceQueue.run(e.userId, async () => {
        const frame = presenceFrame(e);
        for (const userId of await this.users.presenceAudience(e.userId)) this.deliver(rooms.status(userId), frame);
      }),
    );

    on('user.sessions_revoked', ({ userId }) => this.closeRoom(rooms.user(userId), CLOSE.unauthorized, 'Session revoked.'));
  }

  /** Registers a connection in rooms; call remove() when it goes away. */
  add(connection: HubConnection, roomNames: string[]): void {
    this.joined.set(connection, roomNames);
    for (const room of roomNames) {
      let set = this.members.get(room);
      if (!set) this.members.set(room, (set = new Set()));
      set.add(connection);
    }
  }

  remove(connection: HubConnection): void {
    for (const room of this.joined.get(connection) ?? []) {
      const set = this.members.get(room);
      set?.delete(connection);
      if (set?.size === 0) this.members.delete(room);
    }
    this.joined.delete(connection);
  }

  /** Sends a frame to every local connection in a room. */
  deliver(room: string, frame: Frame): void {
    for (const connection of this.members.get(room) ?? []) {
      try {
        connection.send(frame);
      } catch (err) {
        this.logger.warn({ err, room }, 'realtime send failed');
      }
    }
  }

  private toCall(call: CallPayload, frame: Frame): void {
    this.deliver(rooms.calls(call.caller.id), frame);
    this.deliver(rooms.calls(call.callee.id), frame);
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
    await this.presenceQueue.idle();
  }
}
