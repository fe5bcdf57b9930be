/**
 * What online presence (presence.ts) and presence in group rooms (roomPresence.ts) share: this
 * process counts its connections per key; the first one takes a hold in a `HoldRegistry` (in
 * memory for a single process, or in Redis shared by every process) and the last one releases it;
 * then the key's flag is *reconciled* with the registry — read "does anybody hold it?", flip the
 * flag (only the process whose flip changed it announces), and read again in case the answer moved
 * meanwhile. Work for one key runs in order in this process.
 */
import type { Logger } from 'pino';
import { KeyedSerial } from './serial.js';

/**
 * Who holds connections of what, across the processes that share it. Keys are user ids for
 * online presence, and `<group id>:<user id>` for presence in a group's live room.
 */
export interface HoldRegistry<K extends number | string = number> {
  /** Records whether this process holds connections for the key. */
  set(key: K, held: boolean): Promise<void>;
  /** For each key, whether any process holds a connection for it. */
  held(keys: K[]): Promise<boolean[]>;
  /** Starts heartbeats and the sweep of dead processes (shared registries only). */
  start?(hooks: RegistryHooks<K>): Promise<void>;
  /** Withdraws this process; call once its holds are released. */
  close?(): Promise<void>;
}

export interface RegistryHooks<K extends number | string = number> {
  /** Keys a dead process held: their flag must be re-derived. */
  orphaned(keys: K[]): void;
  /** This process was taken for dead (a long stall, Redis lost its data): register again. */
  lost(): void;
}

/** Whether any process holds a connection for one key. */
export async function isHeld<K extends number | string>(registry: HoldRegistry<K>, key: K): Promise<boolean> {
  const [held] = await registry.held([key]);
  return held === true;
}

/** Re-reads after a flip at most this often; more than a couple of rounds means constant churn. */
const MAX_ROUNDS = 5;

export abstract class HoldTracker<K extends number | string> {
  private readonly counts = new Map<K, number>();
  /** Per key, the registry write under way: settled once the registry says what counts says. */
  private readonly recording = new Map<K, Promise<void>>();
  private readonly writes: KeyedSerial<K>;
  protected readonly registry: HoldRegistry<K>;

  constructor(
    protected readonly logger: Logger,
    failure: string,
    registry?: HoldRegistry<K>,
  ) {
    this.writes = new KeyedSerial((err) => logger.error({ err }, failure));
    // A single process knows every connection: its own counts are the whole truth.
    this.registry = registry ?? { set: async () => {}, held: async (keys) => keys.map((key) => this.counts.has(key)) };
  }

  /** Makes the key's flag agree with the registry (see settle). */
  protected abstract reconcile(key: K): Promise<void>;

  /** Joins the registry, then reconciles the flagged keys nobody holds (a process died holding them); returns how many. */
  protected async join(flagged: () => Promise<K[]>): Promise<number> {
    await this.registry.start?.({
      orphaned: (keys) => keys.forEach((key) => this.writes.run(key, () => this.reconcile(key))),
      lost: () => [...this.counts.keys()].forEach((key) => this.sync(key)),
    });
    const keys = await flagged();
    const held = await this.registry.held(keys);
    const stale = keys.filter((_, i) => !held[i]);
    for (const key of stale) this.writes.run(key, () => this.reconcile(key));
    await this.writes.idle();
    return stale.length;
  }

  /** Counts a connection; resolves once the registry records this process's hold (or failed to). */
  protected add(key: K): Promise<void> {
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    if (count === 1) this.sync(key);
    return this.recording.get(key) ?? Promise.resolve();
  }

  protected remove(key: K): void {
    const count = (this.counts.get(key) ?? 0) - 1;
    if (count > 0) {
      this.counts.set(key, count);
      return;
    }
    this.counts.delete(key);
    this.sync(key);
  }

  /** Waits for pending writes (call after the transports dropped their connections), then leaves the registry. */
  async close(): Promise<void> {
    // Release every hold before withdrawing: a hold left behind an unregistered process is never swept.
    await this.writes.idle();
    await this.registry.close?.();
    // A sweep that was under way may have queued reconciles.
    await this.writes.idle();
  }

  /** Records this process's current hold (level, not edge: queued syncs collapse) and reconciles. */
  private sync(key: K): void {
    let recorded!: () => void;
    const recording = new Promise<void>((resolve) => (recorded = resolve));
    this.recording.set(key, recording);
    this.writes.run(key, async () => {
      try {
        await this.registry.set(key, this.counts.has(key));
      } finally {
        recorded();
        if (this.recording.get(key) === recording) this.recording.delete(key);
      }
      await this.reconcile(key);
    });
  }

  /**
   * Flips the key's flag to what the registry says until the two agree; `flip` answers whether
   * this call changed the flag (and announces it then). False if it kept changing.
   */
  protected async settle(key: K, flip: (held: boolean) => Promise<boolean>): Promise<boolean> {
    let cleared = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const held = await isHeld(this.registry, key);
      // Setting the flag is the holder's job (it settles when it takes the hold), or ours to undo our
      // own clearing. Otherwise a process that let go, on a read taken just before the last holder
      // let go too, would set the flag after that holder cleared it: offline, online, offline.
      if (held && !this.counts.has(key) && !cleared) return true;
      if (!(await flip(held))) return true;
      cleared ||= !held;
      // Our write changed the flag; if the registry moved since we read it, it may now be wrong.
      if ((await isHeld(this.registry, key)) === held) return true;
    }
    return false;
  }
}
