/**
 * Presence from connections: a user is online while they hold at least one authenticated
 * realtime connection (any endpoint, any number of tabs and devices) in this process.
 * Only the first connection and the last disconnect write; the writes for one user run in
 * order, so a quick reconnect can never end with the user shown offline.
 */
import type { Logger } from 'pino';
import type { User } from '../models/index.js';
import type { UserService } from '../services/users.js';
import { KeyedSerial } from './serial.js';

export class PresenceTracker {
  private readonly counts = new Map<number, number>();
  private readonly writes: KeyedSerial<number>;

  constructor(private readonly users: Pick<UserService, 'setPresence'>, logger: Logger) {
    this.writes = new KeyedSerial((err) => logger.error({ err }, 'presence update failed'));
  }

  connected(user: User): void {
    const count = (this.counts.get(user.id) ?? 0) + 1;
    this.counts.set(user.id, count);
    if (count === 1) this.writes.run(user.id, () => this.users.setPresence(user, true));
  }

  disconnected(user: User): void {
    const count = (this.counts.get(user.id) ?? 0) - 1;
    if (count > 0) {
      this.counts.set(user.id, count);
      return;
    }
    this.counts.delete(user.id);
    this.writes.run(user.id, () => this.users.setPresence(user, false));
  }

  /** Waits for pending writes; call after the transports dropped their connections. */
  async close(): Promise<void> {
    await this.writes.idle();
  }
}
