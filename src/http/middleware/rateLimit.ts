/** Per-address limits for the endpoints that guess passwords or create accounts; the per-user sending budget. */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { ApiMiddleware } from '../context.js';
import type { Config } from '../../config.js';
import { Throttled } from '../../errors.js';

export function createAuthLimiter(config: Config, redis?: Redis): RateLimiterAbstract {
  const opts = { keyPrefix: `${config.redisPrefix}:auth`, points: config.authRateLimit, duration: config.authRateWindowSeconds };
  // With Redis every process counts against one budget, so scaling out does not multiply it.
  // While Redis is unreachable each process falls back to its own budget instead of failing logins.
  return redis ? new RateLimiterRedis({ ...opts, storeClient: redis, insuranceLimiter: new RateLimiterMemory(opts) }) : new RateLimiterMemory(opts);
}

/** Charges one attempt to this client's budget for `bucket` (the app's limiter lives on ctx). */
export function rateLimit(bucket: string): ApiMiddleware {
  return async (ctx, next) => {
    try {
      await ctx.authLimiter.consume(`${bucket}:${ctx.ip}`);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw new Throttled(res.msBeforeNext / 1000);
      throw res;
    }
    await next();
  };
}

/** Charges one send to the authenticated user's budget (shared with their sockets). */
export const sendLimit: ApiMiddleware = async (ctx, next) => {
  await ctx.sendLimiter.consume(ctx.state.user!.id);
  await next();
};
