/** Limits for the endpoints that guess passwords or create accounts (per client address, and failed logins per account); the per-user sending budget. */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { ApiMiddleware } from '../context.js';
import type { Config } from '../../config.js';
import { Throttled } from '../../errors.js';

function limiter(opts: { keyPrefix: string; points: number; duration: number }, redis?: Redis): RateLimiterAbstract {
  // With Redis every process counts against one budget, so scaling out does not multiply it.
  // While Redis is unreachable each process falls back to its own budget instead of failing logins.
  return redis ? new RateLimiterRedis({ ...opts, storeClient: redis, insuranceLimiter: new RateLimiterMemory(opts) }) : new RateLimiterMemory(opts);
}

export function createAuthLimiter(config: Config, redis?: Redis): RateLimiterAbstract {
  return limiter({ keyPrefix: `${config.redisPrefix}:auth`, points: config.authRateLimit, duration: config.authRateWindowSeconds }, redis);
}

/** Charges `key` one point; past the budget a 429 with Retry-After. */
async function charge(budget: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await budget.consume(key);
  } catch (res) {
    if (res instanceof RateLimiterRes) throw new Throttled(res.msBeforeNext / 1000);
    throw res;
  }
}

/** Charges one attempt to this client's budget for `bucket` (the app's limiter lives on ctx). */
export function rateLimit(bucket: string): ApiMiddleware {
  return async (ctx, next) => {
    await charge(ctx.authLimiter, `${bucket}:${ctx.ip}`);
    await next();
  };
}

/** Charges one send to the authenticated user's budget (shared with their sockets). */
export const sendLimit: ApiMiddleware = async (ctx, next) => {
  await ctx.sendLimiter.consume(ctx.state.user!.id);
  await next();
};

/**
 * Failed logins per account, whatever the address: rotating addresses does not buy more
 * guesses. Each attempt reserves a point before the password is checked (so parallel guesses
 * cannot overshoot) and a correct password gives its point back, so only failures count.
 */
export class LoginThrottle {
  private readonly failures: RateLimiterAbstract;

  constructor(config: Config, redis?: Redis) {
    this.failures = limiter({ keyPrefix: `${config.redisPrefix}:login-failures`, points: config.loginFailureLimit, duration: config.loginFailureWindowSeconds }, redis);
  }

  /** Runs `check` (null when the credentials were wrong) under the account's budget. */
  async attempt<T>(login: string, check: () => Promise<T | null>): Promise<T | null> {
    const key = login.trim().toLowerCase();
    await charge(this.failures, key);
    const result = await check();
    if (result) await this.failures.reward(key, 1);
    return result;
  }
}
