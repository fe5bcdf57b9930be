import { z } from 'zod';
import { route } from '../route.js';
import { actionRoute, createRoute, destroyRoute, listRoute, retrieveRoute, updateRoutes } from '../builders.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageSchema } from '../pagination.js';
import { id } from '../../validation.js';
import { CALL_STATUSES, CALL_TYPES } from '../../models/call.js';
import { presentCall } from '../../presenters/call.js';
import * as responses from '../responses.js';

const callType = z.enum(CALL_TYPES).default('audio');

const createBody = z
  .object({ receiver: id().optional(), receiver_username: z.string().trim().min(1).max(150).optional(), call_type: callType })
  .refine((b) => b.receiver !== undefined || b.receiver_username !== undefined, { message: 'Either receiver or receiver_username is required.' });
const startBody = z.object({ callee: id(), call_type: callType });
// The global message for enums would call a missing status '"undefined" is not a valid choice.'
const putBody = z.object({ status: z.enum(CALL_STATUSES, { error: (issue) => (issue.input === undefined ? 'This field is required.' : undefined) }) });
const patchBody = putBody.partial();

const listed = { tag: 'calls', response: responses.calls, query: pageSchema, present: presentCall };
const one = { path: '/calls/:id', tag: 'calls' };
const UPDATE_SUMMARY = 'Move a call along its status machine: pending→active/rejected (callee), pending→missed, active→ended (either side)';

const transitionRoute = (action: 'accept' | 'reject' | 'end', summary: string) =>
  actionRoute({ path: `/calls/:id/${action}`, summary, tag: 'calls', response: responses.call, act: async (ctx, { user, id }) => presentCall(await ctx.services.calls[action](user, id)) });

export const callRoutes = [
  createRoute({
    path: '/calls',
    summary: 'Call `receiver` (id) or `receiver_username`; `call_type` audio (default) or video',
    tag: 'calls',
    response: responses.call,
    before: [sendLimit],
    body: createBody,
    async create(ctx, { body, user }) {
      const call = await ctx.services.calls.start(user, {
        calleeId: body.receiver,
        calleeUsername: body.receiver_username,
        callType: body.call_type,
        field: body.receiver !== undefined ? 'receiver' : 'receiver_username',
      });
      return presentCall(call);
    },
  }),
  createRoute({
    path: '/calls/start',
    summary: 'Call `callee` (id); `call_type` audio (default) or video',
    tag: 'calls',
    response: responses.call,
    before: [sendLimit],
    body: startBody,
    async create(ctx, { body, user }) {
      return presentCall(await ctx.services.calls.start(user, { calleeId: body.callee, callType: body.call_type, field: 'callee' }));
    },
  }),
  listRoute({ ...listed, path: '/calls', summary: 'Your calls, newest first', load: (ctx, { user }, page) => ctx.services.calls.list(user, page) }),
  listRoute({
    ...listed,
    path: '/calls/history',
    summary: 'Your finished calls (ended, rejected, missed)',
    load: (ctx, { user }, page) => ctx.services.calls.history(user, page),
  }),
  listRoute({ ...listed, path: '/calls/active', summary: 'Your calls ringing or under way', load: (ctx, { user }, page) => ctx.services.calls.active(user, page) }),
  listRoute({ ...listed, path: '/calls/missed', summary: 'Calls you did not answer', load: (ctx, { user }, page) => ctx.services.calls.missed(user, page) }),
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
  retrieveRoute({ ...one, summary: 'A call you take part in', response: responses.call, load: (ctx, { user, id }) => ctx.services.calls.get(user, id), present: presentCall }),
  ...updateRoutes({
    ...one,
    summary: { put: UPDATE_SUMMARY, patch: UPDATE_SUMMARY },
    response: responses.call,
    put: putBody,
    patch: patchBody,
    update: async (ctx, { body, user, id }) => presentCall(await ctx.services.calls.update(user, id, body)),
  }),
  destroyRoute({ ...one, summary: 'Delete a call from the records (a live call is hung up first)', destroy: (ctx, { user, id }) => ctx.services.calls.delete(user, id) }),
  transitionRoute('accept', 'Answer a ringing call (callee only)'),
  transitionRoute('reject', 'Decline a ringing call (callee only)'),
  transitionRoute('end', 'Hang up (either side); an unanswered call becomes missed'),
];
