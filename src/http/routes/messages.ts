import { z } from 'zod';
import { actionRoute, createRoute, listRoute, retrieveRoute, type Render } from '../builders.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageSchema } from '../pagination.js';
import { presentConversation, presentDirectMessage } from '../../presenters/message.js';
import { id } from '../../validation.js';
import { clientIdField, messageText } from '../../schemas/messages.js';
import * as responses from '../responses.js';
import type { DirectMessageRow } from '../../db/rows.js';

const usernameRef = z.string().trim().min(1).max(150);

const sendBody = z.object({
  receiver: id().optional(),
  receiver_username: usernameRef.optional(),
  content: messageText,
  client_id: clientIdField,
});

/** Lists of DMs render through the cache of renderings (src/presenters/rowTexts.ts). */
const render: Render<DirectMessageRow> = async (ctx, rows) => ctx.directMessageTexts.render(rows);

export const messageRoutes = [
  createRoute({
    path: '/messages',
    summary: 'Send a direct message to `receiver` (id) or `receiver_username`; optional `client_id` makes retries idempotent',
    tag: 'messages',
    response: responses.directMessage,
    before: [sendLimit],
    body: sendBody,
    async create(ctx, { body, user }) {
      const input = { receiverId: body.receiver, receiverUsername: body.receiver_username, content: body.content, clientId: body.client_id };
      return presentDirectMessage(await ctx.services.messages.send(user, input));
    },
  }),
  listRoute({
    path: '/messages',
    summary: 'Every message you sent or received, newest first',
    tag: 'messages',
    response: responses.directMessages,
    query: pageSchema,
    load: (ctx, { user }, page) => ctx.services.messages.list(user, page),
    render,
  }),
  listRoute({
    path: '/messages/conversations',
    summary: 'One entry per person you talk with (user, last_message, unread_count), most recent first',
    tag: 'messages',
    response: responses.conversations,
    query: pageSchema,
    load: (ctx, { user }, page) => ctx.services.messages.conversations(user, page),
    present: presentConversation,
  }),
  listRoute({
    path: '/messages/with_user',
    summary: 'Your conversation with ?user_id= or ?username=, oldest first; ?before= pages to older messages',
    tag: 'messages',
    response: responses.directMessages,
    query: pageSchema.extend({ user_id: id().optional(), username: usernameRef.optional() }),
    load: (ctx, { query, user }, page) => ctx.services.messages.withUser(user, { userId: query.user_id, username: query.username }, page),
    render,
  }),
  retrieveRoute({
    path: '/messages/:id',
    summary: 'A message you sent or received',
    tag: 'messages',
    response: responses.directMessage,
    load: (ctx, { user, id }) => ctx.services.messages.get(user, id),
    present: presentDirectMessage,
  }),
  actionRoute({
    path: '/messages/:id/mark_as_read',
    summary: 'Mark a message you received as read',
    tag: 'messages',
    response: responses.directMessage,
    act: async (ctx, { user, id }) => presentDirectMessage(await ctx.services.messages.markRead(user, id)),
  }),
];
