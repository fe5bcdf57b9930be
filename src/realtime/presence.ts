/**
 * Presence from connections: a user is online while they hold at least one authenticated
 * realtime connection (any endpoint, any tab or device) on any server process.
 *
 * Each process counts its own connections per user. What it holds is recorded in a
 * `HoldRegistry`: in memory for a single process, or in Redis (shared by every process, with
 * an expiry a heartbeat keeps pushing back, so the holds of a process that dies without
 * closing are reclaimed by the survivors). The database flag is then *reconciled* with the
 * registry: read "does anybody hold this user?", flip `is_online` with a conditional UPDATE
 * (only the process whose UPDATE changed the row announces presence.changed), and read again;
 * if the answer moved meanwhile (a connect on one process racing a disconnect on another),
 * go round once more. Work for one user runs in order in this process, so a quick reconnect
 * never ends with the user shown offline.
 *
 * At start, every user flagged online whom nobody holds is flagged offline: they were left
 * online by a process that died, or by REST set-online (which holds nothing; see README).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { User } from '../models/index.js';
import type { UserService } from '../services/users.js';
import { HoldTracker, type HoldRegistry, type RegistryHooks } from './holdTracker.js';

export type { HoldRegistry, RegistryHooks } from './holdTracker.js';

type PresenceUsers = Pick<UserService, 'flipPresence' | 'onlineIds'>;

export class PresenceTracker extends HoldTracker<number> {
  constructor(
    private readonly users: PresenceUsers,
    logger: Logger,
    registry?: HoldRegistry,
  ) {
    super(logger, 'presence update failed', registry);
  }

  /** Joins the registry, then flags offline whoever is flagged online but held by no one. */
  async start(): Promise<void> {
    const stale = await this.join(() => this.users.onlineIds());
    if (stale) this.logger.info({ users: stale }, 'flagged offline users no live connection held');
  }

  /** Resolves once the registry records the hold: from then on every process counts the user online. */
  connected(user: User): Promise<void> {
    return this.add(user.id);
  }

  disconnected(user: User): void {
    this.remove(user.id);
  }

  protected async reconcile(userId: number): Promise<void> {
    // flipPresence is a conditional UPDATE: only the process whose write changed the row announces.
    if (!(await this.settle(userId, (online) => this.users.flipPresence(userId, online)))) {
      this.logger.warn({ userId }, 'presence kept changing while being written; the next change will settle it');
    }
  }
}

// Redis layout, under `<prefix>:<namespace>:` (namespace `presence` for users, `rooms` for live rooms)
//   procs          sorted set: process id → expiry (ms, Redis clock), pushed back by each heartbeat
//   proc:<pid>     set of keys (user ids) the process holds
//   user:<key>     set of process ids holding the key (Redis drops it when it empties)
// Scripts build user/proc keys from the prefix, so this needs a single Redis (not Cluster).

const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS: procs. ARGV: pid, ttlMs. Returns 1 if the process was still registered. */
const HEARTBEAT = `${NOW_MS}
local known = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if known then return 1 else return 0 end`;

/**
 * KEYS: procs. ARGV: key prefix, batch size. Removes processes whose expiry passed and their
 * holds, atomically: of several sweepers, exactly one claims each dead process. Returns the
 * user ids they held.
 */
const CLAIM_DEAD = `${NOW_MS}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local orphans = {}
for _, pid in ipairs(dead) do
  redis.call('ZREM', KEYS[1], pid)
  local procKey = ARGV[1] .. 'proc:' .. pid
  for _, uid in ipairs(redis.call('SMEMBERS', procKey)) do
    redis.call('SREM', ARGV[1] .. 'user:' .. uid, pid)
    orphans[#orphans + 1] = uid
  end
  redis.call('DEL', procKey)
end
return orphans`;

export interface RedisRegistryOptions<K extends number | string = number> {
  /** Key namespace (config.redisPrefix). */
  prefix: string;
  /** How long holds outlive the last heartbeat; heartbeats and sweeps run every third of it. */
  ttlMs: number;
  /** What is held: `presence` (user ids, the default) or another namespace with its own keys. */
  namespace?: string;
  /** Reads a key back from Redis (user ids: Number). */
  parse?: (raw: string) => K;
}

export class RedisHoldRegistry<K extends number | string = number> implements HoldRegistry<K> {
  /** Unique per run: a restarted process must not inherit (or refresh) its predecessor's holds. */
  readonly processId = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  private readonly keys: { base: string; procs: string; proc: string };
  private readonly parse: (raw: string) => K;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;

  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly options: RedisRegistryOptions<K>,
  ) {
    const base = `${options.prefix}:${options.namespace ?? 'presence'}:`;
    this.keys = { base, procs: `${base}procs`, proc: `${base}proc:${this.processId}` };
    this.parse = options.parse ?? ((raw) => Number(raw) as K);
  }

  private userKey(key: K): string {
    return `${this.keys.base}user:${key}`;
  }

  async set(key: K, held: boolean): Promise<void> {
    const tx = this.redis.multi();
    if (held) tx.sadd(this.userKey(key), this.processId).sadd(this.keys.proc, key);
    else tx.srem(this.userKey(key), this.processId).srem(this.keys.proc, key);
    await tx.exec();
  }

  async held(keys: K[]): Promise<boolean[]> {
    if (!keys.length) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.scard(this.userKey(key));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, count]) => {
      if (err) throw err;
      return Number(count) > 0;
    });
  }

  async start(hooks: RegistryHooks<K>): Promise<void> {
    await this.heartbeat();
    await this.sweep(hooks);
    const every = Math.max(250, Math.floor(this.options.ttlMs / 3));
    this.timer = setInterval(() => {
      // One tick at a time: a slow Redis must not pile up overlapping sweeps.
      this.ticking ??= this.tick(hooks).finally(() => (this.ticking = undefined));
    }, every);
    this.timer.unref();
  }

  private async tick(hooks: RegistryHooks<K>): Promise<void> {
    try {
      if (!(await this.heartbeat())) {
        this.logger.warn({ processId: this.processId }, 'presence registrations were reclaimed; registering again');
        hooks.lost();
      }
      await this.sweep(hooks);
    } catch (err) {
      this.logger.warn({ err }, 'presence heartbeat failed');
    }
  }

  private async heartbeat(): Promise<boolean> {
    return (await this.redis.eval(HEARTBEAT, 1, this.keys.procs, this.processId, this.options.ttlMs)) === 1;
  }

  private async sweep(hooks: RegistryHooks<K>): Promise<void> {
    for (;;) {
      const orphans = (await this.redis.eval(CLAIM_DEAD, 1, this.keys.procs, this.keys.base, 50)) as string[];
      if (!orphans.length) return;
      this.logger.info({ holds: orphans.length, namespace: this.options.namespace ?? 'presence' }, 'reclaimed holds of a dead process');
      hooks.orphaned([...new Set(orphans)].map(this.parse));
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    // Holds were released one by one as connections closed; what is left is the registration.
    await this.redis.multi().zrem(this.keys.procs, this.processId).del(this.keys.proc).exec();
  }
}
