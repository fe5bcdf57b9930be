/** The one place errors become HTTP responses, in DRF's JSON shapes. Never a stack trace. */
import { UniqueConstraintError } from 'sequelize';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { AppError, MethodNotAllowed, NotFound, ValidationError } from '../../errors.js';

/** Errors raised by libraries (body parser, formidable, http-errors) carry a status. */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  httpCode?: number;
  expose?: boolean;
  type?: string;
  message: string;
}

function translate(err: unknown): AppError | { status: number; body: Record<string, unknown> } | null {
  if (err instanceof AppError) return err;
  if (err instanceof UniqueConstraintError) {
    const fields: Record<string, string[]> = {};
    for (const item of err.errors) fields[(item.path ?? 'non_field_errors').replace(/_lower$/, '')] = ['This value is already taken.'];
    return new ValidationError(Object.keys(fields).length ? fields : { non_field_errors: ['This value is already taken.'] });
  }
  const e = err as HttpLikeError;
  const status = e?.httpCode ?? e?.status ?? e?.statusCode;
  if (status === 413 || e?.type === 'entity.too.large') return { status: 413, body: { detail: 'Request entity too large.' } };
  if (e?.type === 'entity.parse.failed' || (status === 400 && err instanceof SyntaxError)) return { status: 400, body: { detail: `JSON parse error - ${e.message}` } };
  if (status === 415 || e?.type === 'encoding.unsupported') return { status: 415, body: { detail: 'Unsupported media type in request.' } };
  if (status && status >= 400 && status < 500) return { status, body: { detail: e.message } };
  return null;
}

export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.body === undefined || ctx.body === null) {
        // Setting a body alone would turn koa's default 404 into a 200.
        if (ctx.status === 404) {
          ctx.status = 404;
          ctx.body = new NotFound().body();
        }
        // router.allowedMethods() sets 405 and Allow, but no body.
        else if (ctx.status === 405) ctx.body = new MethodNotAllowed(ctx.method).body();
      }
    } catch (err) {
      const known = translate(err);
      if (known instanceof AppError) {
        ctx.status = known.status;
        ctx.set(known.headers);
        if (known.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="api"');
        ctx.body = known.body();
      } else if (known) {
        ctx.status = known.status;
        ctx.body = known.body;
      } else {
        logger.error({ err, method: ctx.method, url: ctx.url }, 'unhandled error');
        ctx.status = 500;
        ctx.body = { detail: 'A server error occurred.' };
      }
    }
  };
}
