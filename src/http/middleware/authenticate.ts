import type { ApiMiddleware } from '../context.js';
import { AuthenticationFailed } from '../../errors.js';

/** Bearer-token authentication for protected routes. */
export const authenticate: ApiMiddleware = async (ctx, next) => {
  const header = ctx.get('Authorization');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!header) throw new AuthenticationFailed();
  if (!match) throw new AuthenticationFailed('Authorization header must contain two space-delimited values', 'bad_authorization_header');
  const { user, sessionId } = await ctx.services.tokens.authenticate(match[1]);
  ctx.state.user = user;
  ctx.state.sessionId = sessionId;
  await next();
};
