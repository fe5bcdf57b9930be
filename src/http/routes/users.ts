import { z } from 'zod';
import { actionRoute, destroyRoute, listRoute, retrieveRoute, updateRoutes } from '../builders.js';
import { pageSchema } from '../pagination.js';
import { presentUser } from '../../presenters/user.js';
import { viewerOf } from '../viewer.js';
import { uploadedFile } from '../middleware/uploads.js';
import { emailField, usernameField } from '../../schemas/accounts.js';
import type { ProfileInput } from '../../services/users.js';
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

const listed = { tag: 'users', response: responses.users, present: presentUser };
const one = { path: '/users/:id', tag: 'users' };

const presenceRoute = (status: 'online' | 'offline', summary: string) =>
  actionRoute({
    path: `/users/set-${status}`,
    summary,
    tag: 'users',
    response: responses.presence,
    async act(ctx, { user }) {
      await ctx.services.users.setPresence(user, status === 'online');
      return { status };
    },
  });

const followRoute = (action: 'follow' | 'unfollow', summary: string, message: (username: string) => string) =>
  actionRoute({
    path: `/users/:id/${action}`,
    summary,
    tag: 'users',
    response: responses.message,
    async act(ctx, { user, id }) {
      const target = await ctx.services.users[action](user, id);
      return { message: message(target.username) };
    },
  });

export const userRoutes = [
  listRoute({
    ...listed,
    path: '/users',
    summary: 'List users, newest first; ?search= matches username, first and last name',
    query: pageSchema.extend({ search: z.string().trim().max(150).optional() }),
    load: (ctx, { query, user }, page) => ctx.services.users.list(user.id, page, query.search || undefined),
  }),
  retrieveRoute({
    path: '/users/me',
    summary: 'Your own profile',
    tag: 'users',
    response: responses.user,
    load: (ctx, { user }) => ctx.services.users.get(user.id, user.id),
    present: presentUser,
  }),
  listRoute({ ...listed, path: '/users/online', summary: 'Users who are online now', query: pageSchema, load: (ctx, { user }, page) => ctx.services.users.online(user.id, page) }),
  presenceRoute('online', 'Mark yourself online'),
  presenceRoute('offline', 'Mark yourself offline (updates last_seen)'),
  retrieveRoute({ ...one, summary: 'A user by id', response: responses.user, load: (ctx, { id, user }) => ctx.services.users.get(id, user.id), present: presentUser }),
  ...updateRoutes({
    ...one,
    summary: { put: 'Update your profile (full)', patch: 'Update your profile (partial); multipart accepts profile_picture' },
    response: responses.user,
    file: 'profile_picture',
    put: putBody,
    patch: patchBody,
    async update(ctx, { body, user, id }) {
      const updated = await ctx.services.users.update(user, id, toProfile(body), uploadedFile(ctx, 'profile_picture'));
      return presentUser(updated, viewerOf(ctx));
    },
  }),
  destroyRoute({ ...one, summary: 'Delete your account and everything you posted', destroy: (ctx, { user, id }) => ctx.services.users.delete(user, id) }),
  followRoute('follow', 'Follow a user (idempotent)', (username) => `Now following ${username}`),
  followRoute('unfollow', 'Stop following a user', (username) => `Unfollowed ${username}`),
  listRoute({ ...listed, path: '/users/:id/followers', summary: "A user's followers", query: pageSchema, load: (ctx, { id, user }, page) => ctx.services.users.followers(id, user.id, page) }),
  listRoute({ ...listed, path: '/users/:id/following', summary: 'Users this user follows', query: pageSchema, load: (ctx, { id, user }, page) => ctx.services.users.following(id, user.id, page) }),
];
