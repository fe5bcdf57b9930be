import type { Middleware } from 'koa';
import type { Logger } from 'pino';

/** One structured line per request. */
export function requestLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.info({ method: ctx.method, url: ctx.url, status: ctx.status, ms: Math.round(ms * 10) / 10, user: ctx.state.user?.id, ip: ctx.ip }, 'request');
    }
  };
}
