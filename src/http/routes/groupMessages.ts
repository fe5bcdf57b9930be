import { z } from 'zod';
import { route } from '../route.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageRequest, pageSchema, sendPage } from '../pagination.js';
import { presentGroupMessage } from '../../presenters/message.js';
import { id, text } from '../../validation.js';
import { MESSAGE_MAX, clientIdField } from './messages.js';
import * as responses from '../responses.js';

const sendBody = z.object({ group: id(), content: text(MESSAGE_MAX), client_id: clientIdField });

export const groupMessageRoutes = [
  route({
    method: 'post',
    path: '/group-messages',
    summary: 'Send a message to a group you belong to; optional `client_id` makes retries idempotent',
    tag: 'group-messages',
    response: responses.groupMessage,
    before: [sendLimit],
    status: 201,
    body: sendBody,
    async handler(ctx, { body, user }) {
      return ctx.services.groupMessages.sendToField(user, { groupId: body.group, content: body.content, clientId: body.client_id }, 'group');
    },
  }),
  route({
    method: 'get',
    path: '/group-messages',
    summary: 'Messages of all your groups, newest first',
    tag: 'group-messages',
    response: responses.groupMessages,
    query: pageSchema,
    async handler(ctx, { query, user }) {
      return sendPage(ctx, await ctx.services.groupMessages.listMine(user, pageRequest(query)), presentGroupMessage);
    },
  }),
  route({
    method: 'get',
    path: '/group-messages/group_messages',
    summary: "One group's messages (?group_id=), newest first; members only",
    tag: 'group-messages',
    response: responses.groupMessages,
    query: pageSchema.extend({ group_id: id() }),
    async handler(ctx, { query, user }) {
      return sendPage(ctx, await ctx.services.groupMessages.list(user, query.group_id, pageRequest(query)), presentGroupMessage);
    },
  }),
];
