import { z } from 'zod';
import { actionRoute, createRoute, destroyRoute, listRoute, retrieveRoute, updateRoutes } from '../builders.js';
import { pageSchema } from '../pagination.js';
import { presentGroup, presentMember } from '../../presenters/group.js';
import { viewerOf } from '../viewer.js';
import { uploadedFile } from '../middleware/uploads.js';
import { text } from '../../validation.js';
import * as responses from '../responses.js';

const NAME_MAX = 100;
const DESCRIPTION_MAX = 5000;
const description = z.string().trim().max(DESCRIPTION_MAX);

const createBody = z.object({ name: text(NAME_MAX), description: description.optional() });
const patchBody = z.object({ name: text(NAME_MAX).optional(), description: description.optional() });
const putBody = z.object({ name: text(NAME_MAX), description: description.optional() });

const listed = { tag: 'groups', response: responses.groups, query: pageSchema, present: presentGroup };
const one = { path: '/groups/:id', tag: 'groups' };

/** Joining and leaving differ only in the service call and the words. */
const membershipRoute = (action: 'join' | 'leave', summary: string, message: string) =>
  actionRoute({
    path: `/groups/:id/${action}`,
    summary,
    tag: 'groups',
    response: responses.message,
    async act(ctx, { user, id }) {
      await ctx.services.groups[action](user, id);
      return { message };
    },
  });

export const groupRoutes = [
  createRoute({
    path: '/groups',
    summary: 'Create a group (multipart: name, description, optional image); you become its admin',
    tag: 'groups',
    response: responses.group,
    file: 'image',
    body: createBody,
    async create(ctx, { body, user }) {
      const group = await ctx.services.groups.create(user, { name: body.name, description: body.description, image: uploadedFile(ctx, 'image') });
      return presentGroup(group, viewerOf(ctx));
    },
  }),
  listRoute({ ...listed, path: '/groups', summary: 'All groups, newest first', load: (ctx, { user }, page) => ctx.services.groups.list(user.id, page) }),
  listRoute({ ...listed, path: '/groups/my_groups', summary: 'Groups you belong to', load: (ctx, { user }, page) => ctx.services.groups.myGroups(user.id, page) }),
  retrieveRoute({ ...one, summary: 'A group by id', response: responses.group, load: (ctx, { id, user }) => ctx.services.groups.get(id, user.id), present: presentGroup }),
  ...updateRoutes({
    ...one,
    summary: {
      put: 'Update a group (full; creator/admins only); multipart accepts image',
      patch: 'Update a group (partial; creator/admins only); multipart accepts image',
    },
    response: responses.group,
    file: 'image',
    put: putBody,
    patch: patchBody,
    async update(ctx, { body, user, id }) {
      const group = await ctx.services.groups.update(user, id, { name: body.name, description: body.description }, uploadedFile(ctx, 'image'));
      return presentGroup(group, viewerOf(ctx));
    },
  }),
  destroyRoute({
    ...one,
    summary: 'Delete a group with its members and messages (creator/admins only)',
    destroy: (ctx, { user, id }) => ctx.services.groups.delete(user, id),
  }),
  membershipRoute('join', 'Join a group (400 if already a member)', 'Joined group successfully'),
  membershipRoute('leave', 'Leave a group (400 if not a member; the creator cannot leave)', 'Left group successfully'),
  listRoute({
    ...listed,
    path: '/groups/:id/members',
    summary: "A group's members as users, each with its role (admin or member)",
    response: responses.members,
    present: presentMember,
    load: (ctx, { id, user }, page) => ctx.services.groups.members(id, user.id, page),
  }),
];
