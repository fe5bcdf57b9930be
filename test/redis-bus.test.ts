import crypto from 'node:crypto';
import t from 'tap';
import { pino } from 'pino';
import { RedisBus } from '../src/events/redisBus.js';
import { REDIS_URL, redisAvailable } from './helpers/redis.js';
import type { DomainEvents } from '../src/events/types.js';

const skip = (await redisAvailable()) ? false : `*** Redis not reachable at ${REDIS_URL}: cross-process bus NOT tested`;

t.test('events cross processes through Redis', { skip }, async (t) => {
  const channel = `jvai:test:${crypto.randomUUID()}`;
  const logger = pino({ level: 'silent' });
  const a = await RedisBus.connect(REDIS_URL, logger, channel);
  const b = await RedisBus.connect(REDIS_URL, logger, channel);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const seenByB: DomainEvents['presence.changed'][] = [];
  const seenByA: DomainEvents['presence.changed'][] = [];
  b.subscribe('presence.changed', (p) => seenByB.push(p));
  a.subscribe('presence.changed', (p) => seenByA.push(p));
  const event = { userId: 7, username: 'seven', isOnline: true, lastSeen: null };
  await a.publish('presence.changed', event);
  await a.publish('presence.changed', { ...event, isOnline: false });
  for (let i = 0; i < 50 && (seenByB.length < 2 || seenByA.length < 2); i++) await new Promise((r) => setTimeout(r, 20));
  t.same(seenByB.map((e) => e.isOnline), [true, false], 'the other process receives every event, in order');
  t.same(seenByA.map((e) => e.isOnline), [true, false], 'the publisher receives its own events through the same path');
});
