import crypto from 'node:crypto';
import type { Middleware } from 'koa';

/**
 * ETag / If-None-Match for JSON reads: the body is serialized here once (Koa would do it anyway)
 * unless a route sent JSON already (text or bytes), hashed, and a client that already has this
 * representation gets 304 with no body.
 */
export const conditionalGet: Middleware = async (ctx, next) => {
  await next();
  if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.status !== 200) return;
  const body: unknown = ctx.body;
  let json: string | Buffer;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    if (!ctx.response.is('json')) return;
    json = body;
  } else {
    if (body === null || typeof body !== 'object' || typeof (body as { pipe?: unknown }).pipe === 'function') return;
    json = JSON.stringify(body);
    ctx.body = json;
    ctx.type = 'application/json';
  }
  ctx.etag = `W/"${json.length.toString(16)}-${crypto.createHash('sha1').update(json).digest('base64url').slice(0, 27)}"`;
  if (ctx.fresh) ctx.status = 304;
};
