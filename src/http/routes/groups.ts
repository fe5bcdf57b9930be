import { z } from 'zod';
import { idParam, route } from '../route.js';
import { pageRequest, pageSchema, sendPage } from '../pagination.js';
import { presentGroup, presentMember } from '../../presenters/group.js';
import { viewerOf } from '../viewer.js';
import { uploadedFile } from '../middleware/uploads.js';
import { text } from '../../validation.js';
import type { GroupRow } from '../../services/rows.js';
import type { Page, PageRequest } from '../../services/pagination.js';
import type { ApiContext } from '../context.js';
import * as responses from '../responses.js';

const NAME_MAX = 100;
const DESCRIPTION_MAX = 5000;
const description = z.string().trim().max(DESCRIPTION_MAX);

const createBody = z.object({ name: text(NAME_MAX), description: description.optional() });
const patchBody = z.object({ name: text(NAME_MAX).optional(), description: description.optional() });
const putBody = z.object({ name: text(NAME_MAX), description: description.optional() });

const updateRoute = (method: 'put' | 'patch', body: typeof patchBody) =>
  route({
    method,
    path: '/groups/:id',
    summary: `Update a group (${method === 'put' ? 'full' : 'partial'}; creator/admins only); multipart accepts image`,
    tag: 'groups',
    response: responses.group,
    file: 'image',
    body,
    async handler(ctx, { body: b, user }) {
      const group = await ctx.services.groups.update(user, idParam(ctx), { name: b.name, description: b.description }, uploadedFile(ctx, 'image'));
      return presentGroup(group, viewerOf(ctx));
    },
  });

const listRoute = (path: string, summary: string, load: (ctx: ApiContext, viewerId: number, page: PageRequest) => Promise<Page<GroupRow>>) =>
  route({
    method: 'get',
    path,
    summary,
    tag: 'groups',
    response: responses.groups,
    query: pageSchema,
    async handler(ctx, { query, user }) {
      const page = await load(ctx, user.id, pageRequest(query));
      const viewer = viewerOf(ctx);
      return sendPage(ctx, page, (g) => presentGroup(g, viewer));
    },
  });

export const groupRoutes = [
  route({
    method: 'post',
    path: '/groups',
    summary: 'Create a group (multipart: name, description, optional image); you become its admin',
    tag: 'groups',
    response: responses.group,
    file: 'image',
    status: 201,
    body: createBody,
    async handler(ctx, { body, user }) {
      const group = await ctx.services.groups.create(user, { name: body.name, description: body.description, image: uploadedFile(ctx, 'image') });
      return presentGroup(group, viewerOf(ctx));
    },
  }),
  listRoute('/groups', 'All groups, newest first', (ctx, viewerId, page) => ctx.services.groups.list(viewerId, page)),
  listRoute('/groups/my_groups', 'Groups you belong to', (ctx, viewerId, page) => ctx.services.groups.myGroups(viewerId, page)),
  route({
    method: 'get',
    path: '/groups/:id',
    summary: 'A group by id',
    tag: 'groups',
    response: responses.group,
    async handler(ctx, { user }) {
      return presentGroup(await ctx.services.groups.get(idParam(ctx), user.id), viewerOf(ctx));
    },
  }),
  updateRoute('patch', patchBody),
  updateRoute('put', putBody as unknown as typeof patchBody),
  route({
    method: 'delete',
    path: '/groups/:id',
    summary: 'Delete a group with its members and messages (creator/admins only)',
    tag: 'groups',
    status: 204,
    async handler(ctx, { user }) {
      await ctx.services.groups.delete(user, idParam(ctx));
    },
  }),
  route({
    method: 'post',
    path: '/groups/:id/join',
    summary: 'Join a group (400 if already a member)',
    tag: 'groups',
    response: responses.message,
    async handler(ctx, { user }) {
      await ctx.services.groups.join(user, idParam(ctx));
      return { message: 'Joined group successfully' };
    },
  }),
  route({
    method: 'post',
    path: '/groups/:id/leave',
    summary: 'Leave a group (400 if not a member; the creator cannot leave)',
    tag: 'groups',
    response: responses.message,
    async handler(ctx, { user }) {
      await ctx.services.groups.leave(user, idParam(ctx));
      return { message: 'Left group successfully' };
    },
  }),
  route({
    method: 'get',
    path: '/groups/:id/members',
    summary: "A group's members as users, each with its role (admin or member)",
    tag: 'groups',
    response: responses.members,
    query: pageSchema,
    async handler(ctx, { query, user }) {
      const page = await ctx.services.groups.members(idParam(ctx), user.id, pageRequest(query));
      const viewer = viewerOf(ctx);
      return sendPage(ctx, page, (u) => presentMember(u, viewer));
    },
  }),
];
