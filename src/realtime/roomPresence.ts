/**
 * Presence in a group's live room (/ws/group/{id}/): a member is in the room while they hold at
 * least one connection to it, from any device, on any server process. When someone's first
 * connection there opens, the members already connected hear `user-joined`; when their last one
 * closes, `user-left` (README, Realtime). The hub reports connections entering and leaving
 * group rooms and delivers the announcements; this module decides when to announce.
 *
 * It works like online presence (presence.ts) and shares its machinery (holdTracker.ts): each process counts its
 * own connections per (group, user) and records whether it holds any in a HoldRegistry (in memory,
 * or in Redis under the `rooms` namespace, where the holds of a process that dies are reclaimed
 * by the survivors). A flag per (group, user) says what the room was last told; it is reconciled
 * with the registry, and only the process whose flip changed the flag announces, so an arrival is
 * announced once however many processes see connections of that user.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import type { UserService } from '../services/users.js';
import { HoldTracker, type HoldRegistry } from './holdTracker.js';

/** What the room was last told about each `<group id>:<user id>`. */
export interface RoomFlags {
  /** Sets (present) or clears a flag; true when this call changed it, so its caller announces. */
  flip(key: string, present: boolean): Promise<boolean>;
  /** Every key flagged present (checked at start: a process may have died before anyone cleared its flags). */
  flagged(): Promise<string[]>;
}

/** A single process's flags. */
export class MemoryRoomFlags implements RoomFlags {
  private readonly present = new Set<string>();

  async flip(key: string, present: boolean): Promise<boolean> {
    if (this.present.has(key) === present) return false;
    if (present) this.present.add(key);
    else this.present.delete(key);
    return true;
  }

  async flagged(): Promise<string[]> {
    return [...this.present];
  }
}

/** Flags shared by every process: `<prefix>:rooms:in:<group id>:<user id>`, flipped atomically. */
export class RedisRoomFlags implements RoomFlags {
  private readonly base: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.base = `${prefix}:rooms:in:`;
  }

  async flip(key: string, present: boolean): Promise<boolean> {
    const name = this.base + key;
    return present ? (await this.redis.set(name, '1', 'NX')) === 'OK' : (await this.redis.del(name)) === 1;
  }

  async flagged(): Promise<string[]> {
    const keys: string[] = [];
    for await (const batch of this.redis.scanStream({ match: `${this.base}*`, count: 500 }) as AsyncIterable<string[]>) {
      for (const name of batch) keys.push(name.slice(this.base.length));
    }
    return keys;
  }
}

export interface RoomPresenceDeps {
  bus: EventBus;
  users: Pick<UserService, 'usernameOf'>;
  logger: Logger;
  /** Shared across processes (Redis); both default to this process alone. */
  registry?: HoldRegistry<string>;
  flags?: RoomFlags;
}

const keyOf = (groupId: number, userId: number): string => `${groupId}:${userId}`;

export class RoomPresence extends HoldTracker<string> {
  private readonly flags: RoomFlags;

  constructor(private readonly deps: RoomPresenceDeps) {
    super(deps.logger, 'group room presence update failed', deps.registry);
    this.flags = deps.flags ?? new MemoryRoomFlags();
  }

  /** Joins the registry, then clears the flags nobody holds any more (their user left when a process died). */
  async start(): Promise<void> {
    const stale = await this.join(() => this.flags.flagged());
    if (stale) this.logger.info({ holds: stale }, 'cleared group room presence no live connection held');
  }

  /** A connection of the user opened in the group's room. */
  entered(groupId: number, userId: number): void {
    this.add(keyOf(groupId, userId));
  }

  /** A connection of the user in the group's room closed. */
  left(groupId: number, userId: number): void {
    this.remove(keyOf(groupId, userId));
  }

  protected async reconcile(key: string): Promise<void> {
    const [groupId, userId] = key.split(':').map(Number) as [number, number];
    // Looked up first, so that the announcement follows the flip without another wait.
    const username = await this.deps.users.usernameOf(userId);
    const settled = await this.settle(key, async (present) => {
      if (!(await this.flags.flip(key, present))) return false;
      // A deleted user's sockets are being closed; nobody needs to hear about them.
      if (username !== null) await this.deps.bus.publish('group.presence', { groupId, userId, username, present });
      return true;
    });
    if (!settled) this.deps.logger.warn({ groupId, userId }, 'group room presence kept changing while being announced; the next change will settle it');
  }
}
