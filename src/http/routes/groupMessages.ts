import { z } from 'zod';
import { createRoute, listRoute, type Render } from '../builders.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageSchema } from '../pagination.js';
import { presentGroupMessage } from '../../presenters/message.js';
import { id } from '../../validation.js';
import { clientIdField, messageText } from '../../schemas/messages.js';
import * as responses from '../responses.js';
import type { GroupMessageRow } from '../../db/rows.js';

const sendBody = z.object({ group: id(), content: messageText, client_id: clientIdField });
/** Lists render through the cache of renderings (src/presenters/rowTexts.ts). */
const render: Render<GroupMessageRow> = async (ctx, rows) => ctx.groupMessageTexts.render(rows);
const listed = { tag: 'group-messages', response: responses.groupMessages, render };

export const groupMessageRoutes = [
  createRoute({
    path: '/group-messages',
    summary: 'Send a message to a group you belong to; optional `client_id` makes retries idempotent',
    tag: 'group-messages',
    response: responses.groupMessage,
    before: [sendLimit],
    body: sendBody,
    async create(ctx, { body, user }) {
      return presentGroupMessage(await ctx.services.groupMessages.send(user, { groupId: body.group, content: body.content, clientId: body.client_id, field: 'group' }));
    },
  }),
  listRoute({
    ...listed,
    path: '/group-messages',
    summary: 'Messages of all your groups, newest first',
    query: pageSchema,
    load: (ctx, { user }, page) => ctx.services.groupMessages.listMine(user, page),
  }),
  listRoute({
    ...listed,
    path: '/group-messages/group_messages',
    summary: "One group's messages (?group_id=), newest first; members only",
    query: pageSchema.extend({ group_id: id() }),
    load: (ctx, { query, user }, page) => ctx.services.groupMessages.list(user, query.group_id, page),
  }),
];
