import type { ApiMiddleware } from '../context.js';
import { AuthenticationFailed } from '../../errors.js';

/** Bearer-token authentication for protected routes. */
export const authenticate: ApiMiddleware = async (ctx, next) => {
  const header = ctx.get('Authorization');
  if (!header) throw new AuthenticationFailed();
  const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (!token) throw new AuthenticationFailed('Authorization header must contain two space-delimited values', 'bad_authorization_header');
  const { user, sessionId } = await ctx.services.tokens.authenticate(token);
  ctx.state.user = user;
  ctx.state.sessionId = sessionId;
  await next();
};
