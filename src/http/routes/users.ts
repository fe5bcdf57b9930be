import { z } from 'zod';
import { idParam, route } from '../route.js';
import { pageRequest, pageSchema, sendPage } from '../pagination.js';
import { presentUser } from '../../presenters/user.js';
import { viewerOf } from '../viewer.js';
import { uploadedFile } from '../middleware/uploads.js';
import { emailField, usernameField } from './auth.js';
import type { ProfileInput } from '../../services/users.js';
import type { Page, PageRequest } from '../../services/pagination.js';
import type { UserRow } from '../../services/rows.js';
import type { ApiContext } from '../context.js';
import * as responses from '../responses.js';

const profileFields = {
  username: usernameField.optional(),
  email: emailField.optional(),
  first_name: z.string().trim().max(150).optional(),
  last_name: z.string().trim().max(150).optional(),
  bio: z.string().trim().max(500).nullable().optional(),
};
const patchBody = z.object(profileFields);
const putBody = z.object({ ...profileFields, email: emailField, first_name: z.string().trim().max(150), last_name: z.string().trim().max(150) });

const toProfile = (b: z.infer<typeof patchBody>): ProfileInput => ({
  username: b.username,
  email: b.email,
  firstName: b.first_name,
  lastName: b.last_name,
  bio: b.bio,
});

const updateRoute = (method: 'put' | 'patch', body: typeof patchBody) =>
  route({
    method,
    path: '/users/:id',
    summary: method === 'put' ? 'Update your profile (full)' : 'Update your profile (partial); multipart accepts profile_picture',
    tag: 'users',
    response: responses.user,
    file: 'profile_picture',
    body,
    async handler(ctx, { body: b, user }) {
      const updated = await ctx.services.users.update(user, idParam(ctx), toProfile(b), uploadedFile(ctx, 'profile_picture'));
      return presentUser(updated, viewerOf(ctx));
    },
  });

const listRoute = (path: string, summary: string, load: (ctx: ApiContext, viewerId: number, page: PageRequest) => Promise<Page<UserRow>>) =>
  route({
    method: 'get',
    path,
    summary,
    tag: 'users',
    response: responses.users,
    query: pageSchema,
    async handler(ctx, { query, user }) {
      const page = await load(ctx, user.id, pageRequest(query));
      const viewer = viewerOf(ctx);
      return sendPage(ctx, page, (u) => presentUser(u, viewer));
    },
  });

export const userRoutes = [
  route({
    method: 'get',
    path: '/users',
    summary: 'List users, newest first; ?search= matches username, first and last name',
    tag: 'users',
    response: responses.users,
    query: pageSchema.extend({ search: z.string().trim().max(150).optional() }),
    async handler(ctx, { query, user }) {
      const page = await ctx.services.users.list(user.id, pageRequest(query), query.search || undefined);
      const viewer = viewerOf(ctx);
      return sendPage(ctx, page, (u) => presentUser(u, viewer));
    },
  }),
  route({
    method: 'get',
    path: '/users/me',
    summary: 'Your own profile',
    tag: 'users',
    response: responses.user,
    async handler(ctx, { user }) {
      return presentUser(await ctx.services.users.get(user.id, user.id), viewerOf(ctx));
    },
  }),
  listRoute('/users/online', 'Users who are online now', (ctx, viewerId, page) => ctx.services.users.online(viewerId, page)),
  route({
    method: 'post',
    path: '/users/set-online',
    summary: 'Mark yourself online',
    tag: 'users',
    response: responses.presence,
    async handler(ctx, { user }) {
      await ctx.services.users.setPresence(user, true);
      return { status: 'online' };
    },
  }),
  route({
    method: 'post',
    path: '/users/set-offline',
    summary: 'Mark yourself offline (updates last_seen)',
    tag: 'users',
    response: responses.presence,
    async handler(ctx, { user }) {
      await ctx.services.users.setPresence(user, false);
      return { status: 'offline' };
    },
  }),
  route({
    method: 'get',
    path: '/users/:id',
    summary: 'A user by id',
    tag: 'users',
    response: responses.user,
    async handler(ctx, { user }) {
      return presentUser(await ctx.services.users.get(idParam(ctx), user.id), viewerOf(ctx));
    },
  }),
  updateRoute('put', putBody as unknown as typeof patchBody),
  updateRoute('patch', patchBody),
  route({
    method: 'delete',
    path: '/users/:id',
    summary: 'Delete your account and everything you posted',
    tag: 'users',
    status: 204,
    async handler(ctx, { user }) {
      await ctx.services.users.delete(user, idParam(ctx));
    },
  }),
  route({
    method: 'post',
    path: '/users/:id/follow',
    summary: 'Follow a user (idempotent)',
    tag: 'users',
    response: responses.message,
    async handler(ctx, { user }) {
      const target = await ctx.services.users.follow(user, idParam(ctx));
      return { message: `Now following ${target.username}` };
    },
  }),
  route({
    method: 'post',
    path: '/users/:id/unfollow',
    summary: 'Stop following a user',
    tag: 'users',
    response: responses.message,
    async handler(ctx, { user }) {
      const target = await ctx.services.users.unfollow(user, idParam(ctx));
      return { message: `Unfollowed ${target.username}` };
    },
  }),
  listRoute('/users/:id/followers', "A user's followers", (ctx, viewerId, page) => ctx.services.users.followers(idParam(ctx), viewerId, page)),
  listRoute('/users/:id/following', 'Users this user follows', (ctx, viewerId, page) => ctx.services.users.following(idParam(ctx), viewerId, page)),
];
