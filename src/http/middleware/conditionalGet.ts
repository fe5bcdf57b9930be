import type { Middleware } from 'koa';
import { weakEtag } from '../jsonText.js';

/**
 * ETag / If-None-Match for JSON reads: the body is serialized here once (Koa would do it anyway)
 * unless a route sent JSON already (text or bytes), and encoded to UTF-8 once — as a string it was
 * encoded three times, to measure it, to hash it and to send it. It is hashed unless the route
 * gave its ETag, and a client that already has this representation gets 304 with no body. Koa's
 * `ctx.fresh` is not used: it answers every `Cache-Control: no-cache` request in full, and fetch()
 * adds that header to any request it is given an If-None-Match for — an origin server evaluates
 * the condition whatever the request's caching directives.
 */
export const conditionalGet: Middleware = async (ctx, next) => {
  await next();
  if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.status !== 200) return;
  const body: unknown = ctx.body;
  let json: Buffer;
  if (Buffer.isBuffer(body)) {
    if (!ctx.response.is('json')) return;
    json = body;
  } else if (typeof body === 'string') {
    if (!ctx.response.is('json')) return;
    json = Buffer.from(body);
    ctx.body = json;
  } else {
    if (body === null || typeof body !== 'object' || typeof (body as { pipe?: unknown }).pipe === 'function') return;
    json = Buffer.from(JSON.stringify(body));
    ctx.body = json;
    ctx.type = 'application/json';
  }
  // A route that knows what its bytes were made from has named them already (JsonText).
  if (!ctx.response.get('ETag')) ctx.etag = weakEtag(json.length.toString(16), json);
  if (matches(ctx.get('If-None-Match'), ctx.response.get('ETag'))) ctx.status = 304;
};

/** RFC 9110 §13.1.2: If-None-Match lists entity tags (or `*`), compared weakly. */
function matches(ifNoneMatch: string, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const ours = opaque(etag);
  return ifNoneMatch.split(',').some((tag) => opaque(tag) === ours);
}
