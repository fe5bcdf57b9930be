import { z } from 'zod';
import { route } from '../route.js';
import { rateLimit } from '../middleware/rateLimit.js';
import { presentUser } from '../../presenters/user.js';
import { viewerOf } from '../viewer.js';
import { AuthenticationFailed, ValidationError } from '../../errors.js';
import { optionalText } from '../../validation.js';
import { emailField, usernameField } from '../../schemas/accounts.js';
import * as responses from '../responses.js';

const registerBody = z
  .object({
    username: usernameField,
    email: emailField,
    password: z.string().min(1).max(128),
    password_confirm: z.string().min(1).max(128),
    first_name: optionalText(150),
    last_name: optionalText(150),
  })
  .refine((b) => b.password === b.password_confirm, { path: ['password_confirm'], message: "Password fields didn't match." });

const credentials = z.object({ username: z.string().trim().min(1).max(254), password: z.string().min(1).max(128) });
const refreshBody = z.object({ refresh: z.string().min(1) });

export const authRoutes = [
  route({
    method: 'post',
    path: '/users/register',
    summary: 'Register a new account; returns the user and a token pair',
    tag: 'auth',
    response: responses.session,
    public: true,
    status: 201,
    body: registerBody,
    before: [rateLimit('register')],
    async handler(ctx, { body }) {
      const { users, tokens } = ctx.services;
      const user = await users.create({ username: body.username, email: body.email, password: body.password, firstName: body.first_name, lastName: body.last_name });
      const shown = await users.get(user.id, user.id);
      return { user: presentUser(shown, { ...viewerOf(ctx), userId: user.id }), ...(await tokens.issue(user)) };
    },
  }),
  route({
    method: 'post',
    path: '/users/login',
    summary: 'Log in with username (or email) and password',
    tag: 'auth',
    response: responses.session,
    public: true,
    body: credentials,
    before: [rateLimit('login')],
    async handler(ctx, { body }) {
      const { users, tokens } = ctx.services;
      const user = await ctx.loginThrottle.attempt(body.username, () => users.checkCredentials(body.username, body.password));
      if (!user || user.isBanned) throw ValidationError.nonField('Unable to log in with provided credentials.');
      const full = await users.get(user.id, user.id);
      return { user: presentUser(full, { ...viewerOf(ctx), userId: user.id }), ...(await tokens.issue(user)) };
    },
  }),
  route({
    method: 'post',
    path: '/token',
    summary: 'Obtain a JWT pair (simplejwt TokenObtainPairView)',
    tag: 'auth',
    response: responses.tokenPair,
    public: true,
    body: credentials,
    before: [rateLimit('login')],
    async handler(ctx, { body }) {
      const { users } = ctx.services;
      const user = await ctx.loginThrottle.attempt(body.username, () => users.checkCredentials(body.username, body.password));
      if (!user || user.isBanned) throw new AuthenticationFailed('No active account found with the given credentials', 'no_active_account');
      return ctx.services.tokens.issue(user);
    },
  }),
  route({
    method: 'post',
    path: '/token/refresh',
    summary: 'Rotate a refresh token: returns a new access and refresh token; a spent one revokes the session',
    tag: 'auth',
    response: responses.tokenPair,
    public: true,
    body: refreshBody,
    before: [rateLimit('refresh')],
    async handler(ctx, { body }) {
      return ctx.services.tokens.refresh(body.refresh);
    },
  }),
  route({
    method: 'post',
    path: '/users/logout',
    summary: "Log out: revokes the refresh token's session (or the current one when none is sent)",
    tag: 'auth',
    response: responses.message,
    body: z.object({ refresh: z.string().min(1).optional() }),
    async handler(ctx, { body, user }) {
      const { tokens } = ctx.services;
      const sessionId = body.refresh ? tokens.sessionOf(body.refresh, user.id) : ctx.state.sessionId!;
      await tokens.revokeSession(user.id, sessionId);
      return { message: 'Logged out successfully' };
    },
  }),
  route({
    method: 'post',
    path: '/users/change-password',
    summary: 'Change your password; ends every session and returns a fresh token pair',
    tag: 'auth',
    response: responses.passwordChanged,
    body: z.object({ old_password: z.string().min(1), new_password: z.string().min(1).max(128) }),
    async handler(ctx, { body, user }) {
      await ctx.services.users.changePassword(user, body.old_password, body.new_password);
      return { message: 'Password changed', ...(await ctx.services.tokens.issue(user)) };
    },
  }),
];
