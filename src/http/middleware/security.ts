/** Browser-facing protections: security headers on every response, and CORS only for configured origins. */
import helmet from 'koa-helmet';
import cors from '@koa/cors';
import type { Middleware } from 'koa';
import type { Config } from '../../config.js';

/**
 * The API serves JSON and images, so its CSP allows nothing to run or frame it; /api/docs/
 * sends its own policy for its inline script. HSTS is left to the TLS-terminating proxy.
 */
export function securityHeaders(config: Config): Middleware {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    // A browser client on another (allowed) origin shows our media in <img>.
    crossOriginResourcePolicy: { policy: config.corsOrigins.length ? 'cross-origin' : 'same-origin' },
  });
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
