import { z } from 'zod';
import { route } from '../route.js';
import { inboxEventOf } from '../../presenters/events.js';
import { REPLAY_LIMIT } from '../../schemas/protocol.js';
import * as responses from '../responses.js';

const DEFAULT_EVENTS = 100;

const count = (fallback: number, min: number, max: number) =>
  z.preprocess((v) => (v === undefined || v === '' ? fallback : Number(v)), z.number({ error: 'A valid integer is required.' }).int().min(min).max(max));

export const eventRoutes = [
  route({
    method: 'get',
    path: '/events',
    summary:
      'Your logged events after `?since=<seq>` (default 0), oldest first, at most `?limit=` (default 100, max 1000): ' +
      '`{latest_seq, resync, events: [{seq, event, data, created_at}]}`, each `event`/`data` as the socket.io channel sends it. ' +
      'Page with since = the last seq until it reaches latest_seq; `resync: true` means older events were pruned: re-fetch over REST.',
    tag: 'realtime',
    response: responses.events,
    query: z.object({ since: count(0, 0, Number.MAX_SAFE_INTEGER), limit: count(DEFAULT_EVENTS, 1, REPLAY_LIMIT) }),
    async handler(ctx, { query, user }) {
      const missed = await ctx.services.deps.events.since(user.id, query.since, query.limit);
      return {
        latest_seq: missed.latest,
        resync: missed.incomplete,
        events: missed.events.slice(0, query.limit).map((e) => {
          const { event, data } = inboxEventOf(e);
          return { seq: e.seq, event, data: { ...data, seq: e.seq }, created_at: e.createdAt };
        }),
      };
    },
  }),
];
