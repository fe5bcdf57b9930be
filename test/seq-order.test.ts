/**
 * SeqOrder's rules one by one, with a log whose answers the test controls (the server tests,
 * realtime-order and multiprocess, show them end to end).
 */
import t from 'tap';
import { pino } from 'pino';
import { SeqOrder } from '../src/realtime/seqOrder.js';
import type { LoggedEvent, Missed } from '../src/events/outbox.js';

const USER = 7;
const WAIT_MS = 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const event = (seq: number): LoggedEvent => ({ seq, name: 'dm.read', payload: {} as never, createdAt: new Date(0).toISOString() });

/** A SeqOrder over a log holding `stored` seqs; `got` lists what was delivered, and how. */
function setup(stored: number[] = [], since?: () => Promise<Missed>) {
  const got: string[] = [];
  const log = {
    since:
      since ??
      (async (_userId: number, after: number, limit: number): Promise<Missed> => {
        const events = stored.filter((seq) => seq > after).slice(0, limit + 1).map(event);
        return { latest: Math.max(0, ...stored), events, incomplete: false };
      }),
  };
  const order = new SeqOrder(log, (_userId, e) => got.push(`log ${e.seq}`), pino({ level: 'silent' }), WAIT_MS);
  const offer = (...seqs: number[]) => {
    for (const seq of seqs) order.offer(USER, seq, () => got.push(`live ${seq}`));
  };
  return { order, offer, got };
}

t.test('an untracked user’s events pass at once', async (t) => {
  const { offer, got } = setup();
  offer(3, 1);
  t.same(got, ['live 3', 'live 1']);
});

t.test('in order, each passes at once; ahead of its turn, it waits for its predecessor', async (t) => {
  const { order, offer, got } = setup();
  order.track(USER, 10);
  offer(9, 11, 13);
  t.same(got, ['live 11'], '9, older than the seq the user was admitted at, is dropped; 13 waits for 12');
  offer(12);
  t.same(got, ['live 11', 'live 12', 'live 13']);
  offer(13);
  t.equal(got.length, 3, 'a second copy is dropped');
});

t.test('a predecessor that does not come is read from the log; should it come after all, it is dropped', async (t) => {
  const { order, offer, got } = setup([1, 2, 3]);
  order.track(USER, 0);
  offer(3);
  t.same(got, []);
  await sleep(WAIT_MS * 3);
  t.same(got, ['log 1', 'log 2', 'live 3'], 'the missing two from the log, then the one that waited');
  offer(1, 2);
  t.equal(got.length, 3);
  offer(4);
  t.same(got.at(-1), 'live 4');
});

t.test('what neither the bus nor the log has is skipped, not waited for forever', async (t) => {
  const { order, offer, got } = setup([3]);
  order.track(USER, 0);
  offer(3, 4);
  await sleep(WAIT_MS * 3);
  t.same(got, ['live 3', 'live 4']);
});

t.test('a failing read of the log skips the gap too', async (t) => {
  const { order, offer, got } = setup([], () => Promise.reject(new Error('database down')));
  order.track(USER, 0);
  offer(2);
  await sleep(WAIT_MS * 3);
  t.same(got, ['live 2']);
});

t.test('a user untracked while a gap is read gets nothing more', async (t) => {
  let answer!: (missed: Missed) => void;
  const { order, offer, got } = setup([], () => new Promise<Missed>((resolve) => (answer = resolve)));
  order.track(USER, 0);
  offer(2);
  await sleep(WAIT_MS * 2);
  order.untrack(USER);
  answer({ latest: 2, events: [event(1), event(2)], incomplete: false });
  await sleep(0);
  t.same(got, []);
});
