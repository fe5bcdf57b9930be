import type { ServiceDeps } from './deps.js';
import { TokenService } from './tokens.js';
import { UserService } from './users.js';

/** Builds every domain service once; REST routes, realtime handlers and `jvai admin` share them. */
export function createServices(deps: ServiceDeps) {
  const tokens = new TokenService(deps.config);
  const users = new UserService(deps, tokens);
  return { deps, tokens, users };
}

export type Services = ReturnType<typeof createServices>;
