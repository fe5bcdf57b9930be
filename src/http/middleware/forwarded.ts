/**
 * Who the client is, per `trustProxy`. Koa's own `proxy` flag trusts X-Forwarded-* from
 * anyone, which lets a client pick its address (and dodge or aim the rate limits) and the
 * host of absolute media URLs. Here forwarded headers count only when the connection comes
 * from a trusted proxy, and the address is the one the outermost trusted proxy saw.
 */
import proxyAddr from 'proxy-addr';
import type { Middleware } from 'koa';
import type { Config } from '../../config.js';

type Trust = (address: string, hop: number) => boolean;

export function trustFunction(setting: Config['trustProxy']): Trust {
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return proxyAddr.compile(setting);
}

/** A forwarded header's first value (a trusted proxy sets it for its client). */
const first = (value: string) => value.replace(/,.*$/s, '').trim();

/** Null when no proxy is trusted: Koa (with `proxy` off) then takes the peer's address as it is. */
export function forwarded(setting: Config['trustProxy']): Middleware | null {
  if (setting === false) return null;
  const trust = trustFunction(setting);
  return async (ctx, next) => {
    ctx.request.ip = proxyAddr(ctx.req, trust);
    const peer = ctx.req.socket.remoteAddress;
    if (peer && trust(peer, 0)) {
      // Own properties shadow koa's getters for this request only (ctx.origin and ctx.href read them).
      const host = first(ctx.get('X-Forwarded-Host'));
      const proto = first(ctx.get('X-Forwarded-Proto')).toLowerCase();
      if (host) Object.defineProperty(ctx.request, 'host', { value: host });
      if (proto === 'http' || proto === 'https') Object.defineProperty(ctx.request, 'protocol', { value: proto });
    }
    await next();
  };
}
