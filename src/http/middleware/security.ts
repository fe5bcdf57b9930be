/** Browser-facing protections: security headers on every response, and CORS only for configured origins. */
import helmet from 'helmet';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import cors from '@koa/cors';
import type { Middleware } from 'koa';
import type { Config } from '../../config.js';

/**
 * The API serves JSON and images, so its CSP allows nothing to run or frame it; /api/docs/
 * sends its own policy for its inline script. HSTS is left to the TLS-terminating proxy.
 * Helmet's headers do not depend on the request: they are worked out once and set together,
 * which spares every response helmet's chain of a dozen middlewares.
 */
export function securityHeaders(config: Config): Middleware {
  const headers = staticHeaders(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: false,
      // A browser client on another (allowed) origin shows our media in <img>.
      crossOriginResourcePolicy: { policy: config.corsOrigins.length ? 'cross-origin' : 'same-origin' },
    }),
  );
  return (ctx, next) => {
    ctx.res.setHeaders(headers);
    return next();
  };
}

/** A response that remembers what was set on it, with the names as spelled. */
class RecordedResponse extends ServerResponse {
  readonly headers = new Map<string, number | string | readonly string[]>();

  override setHeader(name: string, value: number | string | readonly string[]): this {
    this.headers.set(name, value);
    return super.setHeader(name, value);
  }
}

/** The headers an express-style middleware sets, read off a stand-in response. */
function staticHeaders(middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void) {
  const socket = new Socket();
  const req = new IncomingMessage(socket);
  const res = new RecordedResponse(req);
  middleware(req, res, (err) => {
    if (err) throw err;
  });
  // Nothing is left open: a stray socket object can upset native modules at exit (WebRTC).
  socket.destroy();
  return res.headers;
}

/** CORS for the configured origins (none by default: no CORS headers at all). */
export function corsFor(config: Config): Middleware | null {
  if (!config.corsOrigins.length) return null;
  const allowed = new Set(config.corsOrigins);
  return cors({
    origin: (ctx) => (allowed.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
    // Bearer tokens, not cookies: no credentials mode needed.
    allowHeaders: ['Authorization', 'Content-Type'],
    exposeHeaders: ['Retry-After', 'Link'],
    maxAge: 600,
  });
}
