import { z } from 'zod';
import { idParam, route } from '../route.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageRequest, pageSchema, sendPage } from '../pagination.js';
import { id } from '../../validation.js';
import { CALL_STATUSES, CALL_TYPES } from '../../models/call.js';
import type { CallService } from '../../services/calls.js';
import type { CallPayload } from '../../events/types.js';
import type { Page, PageRequest } from '../../services/pagination.js';
import type { User } from '../../models/index.js';
import * as responses from '../responses.js';

const callType = z.enum(CALL_TYPES).default('audio');

const createBody = z
  .object({ receiver: id().optional(), receiver_username: z.string().trim().min(1).max(150).optional(), call_type: callType })
  .refine((b) => b.receiver !== undefined || b.receiver_username !== undefined, { message: 'Either receiver or receiver_username is required.' });
const startBody = z.object({ callee: id(), call_type: callType });
// The global message for enums would call a missing status '"undefined" is not a valid choice.'
const putBody = z.object({ status: z.enum(CALL_STATUSES, { error: (issue) => (issue.input === undefined ? 'This field is required.' : undefined) }) });
const patchBody = putBody.partial();

type Lister = (calls: CallService, actor: User, page: PageRequest) => Promise<Page<CallPayload>>;

const listRoute = (path: string, summary: string, load: Lister) =>
  route({
    method: 'get',
    path,
    summary,
    tag: 'calls',
    response: responses.calls,
    query: pageSchema,
    async handler(ctx, { query, user }) {
      return sendPage(ctx, await load(ctx.services.calls, user, pageRequest(query)), (call) => call);
    },
  });

const actionRoute = (action: 'accept' | 'reject' | 'end', summary: string) =>
  route({
    method: 'post',
    path: `/calls/:id/${action}`,
    summary,
    tag: 'calls',
    response: responses.call,
    async handler(ctx, { user }) {
      return ctx.services.calls[action](user, idParam(ctx));
    },
  });

const updateRoute = (method: 'put' | 'patch', body: typeof patchBody) =>
  route({
    method,
    path: '/calls/:id',
    summary: 'Move a call along its status machine: pending→active/rejected (callee), pending→missed, active→ended (either side)',
    tag: 'calls',
    response: responses.call,
    body,
    async handler(ctx, { body: b, user }) {
      return ctx.services.calls.update(user, idParam(ctx), b);
    },
  });

export const callRoutes = [
  route({
    method: 'post',
    path: '/calls',
    summary: 'Call `receiver` (id) or `receiver_username`; `call_type` audio (default) or video',
    tag: 'calls',
    response: responses.call,
    before: [sendLimit],
    status: 201,
    body: createBody,
    async handler(ctx, { body, user }) {
      return ctx.services.calls.start(user, {
        calleeId: body.receiver,
        calleeUsername: body.receiver_username,
        callType: body.call_type,
        field: body.receiver !== undefined ? 'receiver' : 'receiver_username',
      });
    },
  }),
  route({
    method: 'post',
    path: '/calls/start',
    summary: 'Call `callee` (id); `call_type` audio (default) or video',
    tag: 'calls',
    response: responses.call,
    before: [sendLimit],
    status: 201,
    body: startBody,
    async handler(ctx, { body, user }) {
      return ctx.services.calls.start(user, { calleeId: body.callee, callType: body.call_type, field: 'callee' });
    },
  }),
  listRoute('/calls', 'Your calls, newest first', (calls, actor, page) => calls.list(actor, page)),
  listRoute('/calls/history', 'Your finished calls (ended, rejected, missed)', (calls, actor, page) => calls.history(actor, page)),
  listRoute('/calls/active', 'Your calls ringing or under way', (calls, actor, page) => calls.active(actor, page)),
  listRoute('/calls/missed', 'Calls you did not answer', (calls, actor, page) => calls.missed(actor, page)),
  route({
    method: 'get',
    path: '/calls/ice-servers',
    summary: 'STUN/TURN servers for WebRTC',
    tag: 'calls',
    response: responses.iceServers,
    async handler(ctx) {
      return { ice_servers: ctx.services.calls.iceServers() };
    },
  }),
  route({
    method: 'get',
    path: '/calls/:id',
    summary: 'A call you take part in',
    tag: 'calls',
    response: responses.call,
    async handler(ctx, { user }) {
      return ctx.services.calls.get(user, idParam(ctx));
    },
  }),
  updateRoute('put', putBody as unknown as typeof patchBody),
  updateRoute('patch', patchBody),
  route({
    method: 'delete',
    path: '/calls/:id',
    summary: 'Delete a call from the records (a live call is hung up first)',
    tag: 'calls',
    status: 204,
    async handler(ctx, { user }) {
      await ctx.services.calls.delete(user, idParam(ctx));
    },
  }),
  actionRoute('accept', 'Answer a ringing call (callee only)'),
  actionRoute('reject', 'Decline a ringing call (callee only)'),
  actionRoute('end', 'Hang up (either side); an unanswered call becomes missed'),
];
