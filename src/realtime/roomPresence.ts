/**
 * Presence in a group's live room (/ws/group/{id}/): a member is in the room while they hold at
 * least one connection to it, from any device, on any server process. When someone's first
 * connection there opens, the members already connected hear `user-joined`; when their last one
 * closes, `user-left` (README, Realtime). The hub reports connections entering and leaving
 * group rooms and delivers the announcements; this module decides when to announce.
 *
 * It works like online presence (presence.ts) and shares its machinery: each process counts its
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
import { isHeld, type HoldRegistry } from './presence.js';
import { KeyedSerial } from './serial.js';

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

/** Re-reads after a flip at most this often (as presence.ts). */
const MAX_ROUNDS = 5;

const keyOf = (groupId: number, userId: number): string => `${groupId}:${userId}`;

export class RoomPresence {
  private readonly counts = new Map<string, number>();
  private readonly writes: KeyedSerial<string>;
  private readonly registry: HoldRegistry<string>;
  private readonly flags: RoomFlags;

  constructor(private readonly deps: RoomPresenceDeps) {
    this.writes = new KeyedSerial((err) => deps.logger.error({ err }, 'group room presence update failed'));
    // A single process knows every connection: its own counts are the whole truth.
    this.registry = deps.registry ?? { set: async () => {}, held: async (keys) => keys.map((key) => this.counts.has(key)) };
    this.flags = deps.flags ?? new MemoryRoomFlags();
  }

  /** Joins the registry, then clears the flags nobody holds any more (their user left when a process died). */
  async start(): Promise<void> {
    await this.registry.start?.({
      orphaned: (keys) => keys.forEach((key) => this.writes.run(key, () => this.reconcile(key))),
      lost: () => [...this.counts.keys()].forEach((key) => this.sync(key)),
    });
    const flagged = await this.flags.flagged();
    const held = await this.registry.held(flagged);
    const stale = flagged.filter((_, i) => !held[i]);
    if (stale.length) this.deps.logger.info({ holds: stale.length }, 'clearing group room presence no live connection holds');
    for (const key of stale) this.writes.run(key, () => this.reconcile(key));
    await this.writes.idle();
  }

  /** A connection of the user opened in the group's room. */
  entered(groupId: number, userId: number): void {
    const key = keyOf(groupId, userId);
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count === 1) this.sync(key);
  }

  /** A connection of the user in the group's room closed. */
  left(groupId: number, userId: number): void {
    const key = keyOf(groupId, userId);
    const count = (this.counts.get(key) ?? 0) - 1;
    if (count > 0) {
      this.counts.set(key, count);
      return;
    }
    this.counts.delete(key);
    this.sync(key);
  }

  /** Waits for pending announcements (call after the transports dropped their connections), then leaves the registry. */
  async close(): Promise<void> {
    await this.writes.idle();
    await this.registry.close?.();
    await this.writes.idle();
  }

  /** Records this process's current hold (level, not edge: queued syncs collapse) and reconciles. */
  private sync(key: string): void {
    this.writes.run(key, async () => {
      await this.registry.set(key, this.counts.has(key));
      await this.reconcile(key);
    });
  }

  private async reconcile(key: string): Promise<void> {
    const [groupId, userId] = key.split(':').map(Number) as [number, number];
    // Looked up first, so that the announcement follows the flip without another wait.
    const username = await this.deps.users.usernameOf(userId);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const present = await isHeld(this.registry, key);
      if (!(await this.flags.flip(key, present))) return;
      // A deleted user's sockets are being closed; nobody needs to hear about them.
      if (username !== null) await this.deps.bus.publish('group.presence', { groupId, userId, username, present: present });
      const after = await isHeld(this.registry, key);
      if (after === present) return;
    }
    this.deps.logger.warn({ groupId, userId }, 'group room presence kept changing while being announced; the next change will settle it');
  }
}
