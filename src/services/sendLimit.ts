/**
 * One sending budget per user, whatever the way in: REST, every socket of every process.
 * Sends are what fill other people's inboxes and the database (DMs, group messages, posts,
 * comments, calls). A sustained rate per second plus an extra burst per minute, so a person
 * typing fast or pasting a few lines never notices, and a script is held to the rate.
 * With Redis all processes count against one budget; while Redis is unreachable each process
 * falls back to its own budget (insurance) rather than refusing or failing sends.
 */
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type IRateLimiterOptions } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { Throttled } from '../errors.js';

const BURST_WINDOW_SECONDS = 60;

export class SendLimiter {
  private readonly limiter: BurstyRateLimiter;

  constructor(config: Pick<Config, 'redisPrefix' | 'sendRateLimit' | 'sendBurst'>, redis?: Redis) {
    const make = (opts: IRateLimiterOptions) =>
      redis ? new RateLimiterRedis({ ...opts, storeClient: redis, insuranceLimiter: new RateLimiterMemory(opts) }) : new RateLimiterMemory(opts);
    this.limiter = new BurstyRateLimiter(
      make({ keyPrefix: `${config.redisPrefix}:send`, points: config.sendRateLimit, duration: 1 }),
      make({ keyPrefix: `${config.redisPrefix}:send-burst`, points: config.sendBurst, duration: BURST_WINDOW_SECONDS }),
    );
  }

  /** Charges one send to the user; throws Throttled (429, Retry-After) when over budget. */
  async consume(userId: number): Promise<void> {
    try {
      await this.limiter.consume(String(userId));
    } catch (res) {
      if (res instanceof RateLimiterRes) throw new Throttled(res.msBeforeNext / 1000);
      throw res;
    }
  }
}
