import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { Call } from '../src/models/index.js';
import { RingTimer } from '../src/services/ringTimer.js';
import type { EventBus } from '../src/events/bus.js';
import type { CallPayload, LoggedEvents, Seqs } from '../src/events/types.js';
import type { CallStatus } from '../src/models/call.js';

type CallEvent = 'call.started' | 'call.accepted' | 'call.rejected' | 'call.ended' | 'call.missed';
interface Seen {
  name: CallEvent;
  payload: LoggedEvents[CallEvent];
  /** Each participant's event log sequence number. */
  seqs: Seqs;
}

/** Records every call event published on the bus. */
function record(bus: EventBus): Seen[] {
  const seen: Seen[] = [];
  for (const name of ['call.started', 'call.accepted', 'call.rejected', 'call.ended', 'call.missed'] as const) {
    bus.subscribe(name, ({ seqs, ...payload }) => seen.push({ name, payload, seqs }));
  }
  return seen;
}

/** Waits until an event about this call was seen (events may cross a real bus asynchronously). */
async function eventFor(seen: Seen[], name: CallEvent, callId: number, timeoutMs = 3000): Promise<Seen> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const hit = seen.find((e) => e.name === name && e.payload.call.id === callId);
    if (hit) return hit;
    if (Date.now() > until) throw new Error(`no ${name} for call ${callId}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const nested = (u: TestUser) => ({ id: u.id, username: u.username, full_name: `Test ${u.username.replace('user', 'User')}` });
const ids = (list: CallPayload[]) => list.map((c) => c.id);

/** Every request on one call object (method, path, body). */
const objectRequests = (id: number): [string, string, unknown?][] => [
  ['GET', `/api/calls/${id}/`],
  ['PUT', `/api/calls/${id}/`, { status: 'ended' }],
  ['PATCH', `/api/calls/${id}/`, { status: 'ended' }],
  ['DELETE', `/api/calls/${id}/`],
  ['POST', `/api/calls/${id}/accept/`],
  ['POST', `/api/calls/${id}/reject/`],
  ['POST', `/api/calls/${id}/end/`],
];

t.test('calls', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const seen = record(server.bus);
  const pair = async () => [await makeUser(api), await makeUser(api)] as const;
  const ring = async (from: TestUser, to: TestUser, callType = 'video') => {
    const res = await from.api.post('/api/calls/start/', { callee: to.id, call_type: callType });
    if (res.status !== 201) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as CallPayload;
  };

  t.test('start a call (POST /calls/start/) and read it back', async (t) => {
    const [a, b] = await pair();
    const res = await a.api.post('/api/calls/start/', { callee: b.id, call_type: 'video' });
    t.equal(res.status, 201);
    t.same(Object.keys(res.body).sort(), ['answered_at', 'call_type', 'callee', 'caller', 'duration', 'ended_at', 'id', 'started_at', 'status']);
    t.same(res.body.caller, nested(a));
    t.same(res.body.callee, nested(b));
    t.match(res.body, { call_type: 'video', status: 'pending', answered_at: null, ended_at: null, duration: null });
    t.match(res.body.started_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const started = await eventFor(seen, 'call.started', res.body.id);
    t.same(started.payload, { call: res.body });
    t.same(Object.keys(started.seqs).map(Number).sort((x, y) => x - y), [a.id, b.id].sort((x, y) => x - y), 'logged for both participants');
    for (const who of [a, b]) {
      const got = await who.api.get(`/api/calls/${res.body.id}/`);
      t.equal(got.status, 200);
      t.same(got.body, res.body);
    }
    t.equal((await a.api.get(`/api/calls/${res.body.id}`)).status, 200, 'works without the trailing slash');
    await a.api.post(`/api/calls/${res.body.id}/end/`);
  });

  t.test('start a call (POST /calls/) by receiver or receiver_username', async (t) => {
    const [a, b] = await pair();
    const byId = await a.api.post('/api/calls/', { receiver: b.id, call_type: 'audio' });
    t.equal(byId.status, 201);
    t.match(byId.body, { caller: { id: a.id }, callee: { id: b.id }, call_type: 'audio', status: 'pending' });
    await a.api.post(`/api/calls/${byId.body.id}/end/`);
    const byName = await a.api.post('/api/calls/', { receiver_username: b.username.toUpperCase(), call_type: 'video' });
    t.equal(byName.status, 201);
    t.match(byName.body, { callee: { id: b.id }, call_type: 'video' });
    await a.api.post(`/api/calls/${byName.body.id}/end/`);
    const defaulted = await a.api.post('/api/calls/', { receiver: b.id });
    t.equal(defaulted.body.call_type, 'audio', 'call_type defaults to audio');
    await a.api.post(`/api/calls/${defaulted.body.id}/end/`);
  });

  t.test('bad input is a 400 and writes nothing', async (t) => {
    const [a, b] = await pair();
    const cases: [string, unknown, unknown][] = [
      ['/api/calls/', {}, { non_field_errors: ['Either receiver or receiver_username is required.'] }],
      ['/api/calls/', { receiver: 99999999 }, { receiver: ['Invalid pk "99999999" - object does not exist.'] }],
      ['/api/calls/', { receiver_username: 'no-such-user' }, { receiver_username: ['User not found.'] }],
      ['/api/calls/', { receiver: 'abc' }, { receiver: ['A valid integer is required.'] }],
      ['/api/calls/', { receiver: b.id, call_type: 'fax' }, { call_type: ['"fax" is not a valid choice.'] }],
      ['/api/calls/', { receiver: a.id, call_type: 'audio' }, { non_field_errors: ['You cannot call yourself.'] }],
      ['/api/calls/start/', {}, { callee: ['This field is required.'] }],
      ['/api/calls/start/', { callee: 99999999, call_type: 'video' }, { callee: ['Invalid pk "99999999" - object does not exist.'] }],
      ['/api/calls/start/', { callee: b.id, call_type: 'smoke' }, { call_type: ['"smoke" is not a valid choice.'] }],
      // An object whose own toString is no function: String() of it throws (it was a 500).
      ['/api/calls/start/', { callee: b.id, call_type: { toString: 'x' } }, { call_type: ['"{"toString":"x"}" is not a valid choice.'] }],
      ['/api/calls/start/', { callee: a.id, call_type: 'video' }, { non_field_errors: ['You cannot call yourself.'] }],
    ];
    for (const [path, body, errors] of cases) {
      const res = await a.api.post(path, body);
      t.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      t.same(res.body, errors);
    }
    t.same((await a.api.get('/api/calls/')).body, [], 'no call was created');
  });

  t.test('authentication is required everywhere', async (t) => {
    const [a, b] = await pair();
    const call = await ring(a, b);
    const anon = new Api(server.url);
    const requests: [string, string, unknown?][] = [
      ['POST', '/api/calls/', { receiver: b.id }],
      ['POST', '/api/calls/start/', { callee: b.id }],
      ['GET', '/api/calls/'],
      ['GET', '/api/calls/history/'],
      ['GET', '/api/calls/active/'],
      ['GET', '/api/calls/missed/'],
      ['GET', '/api/calls/ice-servers/'],
      ...objectRequests(call.id),
    ];
    for (const [method, path, body] of requests) {
      const res = await anon.request(method, path, body);
      t.equal(res.status, 401, `${method} ${path}`);
      t.same(res.body, { detail: 'Authentication credentials were not provided.' });
    }
    t.equal((await a.api.get(`/api/calls/${call.id}/`)).body.status, 'pending', 'nothing changed');
    await a.api.post(`/api/calls/${call.id}/end/`);
  });

  t.test('strangers and missing calls get 404', async (t) => {
    const [a, b] = await pair();
    const stranger = await makeUser(api);
    const call = await ring(a, b);
    const requests: [string, string, unknown?][] = [
      ...objectRequests(call.id),
    ];
    for (const [method, path, body] of requests) {
      const res = await stranger.api.request(method, path, body);
      t.equal(res.status, 404, `stranger ${method} ${path}`);
      t.same(res.body, { detail: 'Not found.' });
      const missing = await a.api.request(method, path.replace(String(call.id), '99999999'), body);
      t.equal(missing.status, 404, `missing ${method}`);
    }
    t.equal((await a.api.get('/api/calls/abc/')).status, 404);
    t.equal((await a.api.get(`/api/calls/${call.id}/`)).body.status, 'pending', 'nothing changed');
    await a.api.post(`/api/calls/${call.id}/end/`);
  });

  t.test('busy: nobody may be in two live calls', async (t) => {
    const [a, b] = await pair();
    const [c, d] = await pair();
    const call = await ring(a, b);
    const busyCallee = await c.api.post('/api/calls/start/', { callee: b.id, call_type: 'audio' });
    t.equal(busyCallee.status, 409, 'callee already ringing');
    t.same(busyCallee.body, { detail: `${b.username} is already in a call.` });
    const busyCaller = await a.api.post('/api/calls/', { receiver: d.id });
    t.equal(busyCaller.status, 409, 'caller already calling');
    t.same(busyCaller.body, { detail: 'You are already in a call.' });
    t.equal((await b.api.post('/api/calls/start/', { callee: c.id })).status, 409, 'the ringing callee cannot call out');
    t.equal((await c.api.post('/api/calls/', { receiver_username: a.username })).status, 409, 'nor be called by someone else');
    await b.api.post(`/api/calls/${call.id}/accept/`);
    t.equal((await c.api.post('/api/calls/start/', { callee: a.id })).status, 409, 'an active call is busy too');
    await b.api.post(`/api/calls/${call.id}/end/`);
    const free = await c.api.post('/api/calls/start/', { callee: b.id, call_type: 'audio' });
    t.equal(free.status, 201, 'free again once the call ended');
    await c.api.post(`/api/calls/${free.body.id}/end/`);
    t.same((await d.api.get('/api/calls/')).body, [], 'no refused call was stored');
  });

  t.test('accept, then end; each at most once', async (t) => {
    const [a, b] = await pair();
    const call = await ring(a, b);
    const byCaller = await a.api.post(`/api/calls/${call.id}/accept/`);
    t.equal(byCaller.status, 403, 'the caller cannot accept');
    t.same(byCaller.body, { detail: 'You do not have permission to perform this action.' });
    t.equal((await a.api.post(`/api/calls/${call.id}/reject/`)).status, 403, 'nor reject');
    const accepted = await b.api.post(`/api/calls/${call.id}/accept/`);
    t.equal(accepted.status, 200);
    t.match(accepted.body, { id: call.id, status: 'active', ended_at: null, duration: null });
    t.match(accepted.body.answered_at, /Z$/);
    t.same((await eventFor(seen, 'call.accepted', call.id)).payload, { call: accepted.body, byUserId: b.id });
    const again = await b.api.post(`/api/calls/${call.id}/accept/`);
    t.equal(again.status, 400);
    t.same(again.body, { detail: 'This call is no longer pending.' });
    t.equal((await b.api.post(`/api/calls/${call.id}/reject/`)).status, 400, 'an active call cannot be rejected');
    const ended = await a.api.post(`/api/calls/${call.id}/end/`);
    t.equal(ended.status, 200);
    t.match(ended.body, { status: 'ended', answered_at: accepted.body.answered_at, duration: Number });
    t.match(ended.body.ended_at, /Z$/);
    t.same((await eventFor(seen, 'call.ended', call.id)).payload, { call: ended.body, byUserId: a.id });
    const twice = await b.api.post(`/api/calls/${call.id}/end/`);
    t.equal(twice.status, 400);
    t.same(twice.body, { detail: 'This call is already over.' });
    t.equal((await b.api.post(`/api/calls/${call.id}/accept/`)).status, 400);
  });

  t.test('reject; then nothing else', async (t) => {
    const [a, b] = await pair();
    const call = await ring(a, b, 'audio');
    const rejected = await b.api.post(`/api/calls/${call.id}/reject/`);
    t.equal(rejected.status, 200);
    t.match(rejected.body, { status: 'rejected', answered_at: null, duration: 0 });
    t.match(rejected.body.ended_at, /Z$/);
    t.same((await eventFor(seen, 'call.rejected', call.id)).payload, { call: rejected.body, byUserId: b.id });
    for (const action of ['accept', 'reject']) {
      const res = await b.api.post(`/api/calls/${call.id}/${action}/`);
      t.equal(res.status, 400, action);
      t.same(res.body, { detail: 'This call is no longer pending.' });
    }
    t.equal((await a.api.post(`/api/calls/${call.id}/end/`)).status, 400);
  });

  t.test('ending a ringing call makes it missed, from either side', async (t) => {
    const [a, b] = await pair();
    for (const who of [a, b]) {
      const call = await ring(a, b);
      const res = await who.api.post(`/api/calls/${call.id}/end/`);
      t.equal(res.status, 200);
      t.match(res.body, { status: 'missed', answered_at: null, duration: 0 });
      t.same((await eventFor(seen, 'call.missed', call.id)).payload, { call: res.body, byUserId: who.id });
      t.notOk(seen.some((e) => e.name === 'call.ended' && e.payload.call.id === call.id), 'no call.ended for it');
    }
  });

  t.test('PUT/PATCH follow the status machine and nothing else', async (t) => {
    const [a, b] = await pair();
    /** A call between a and b brought into `state`. */
    const callIn = async (state: CallStatus): Promise<CallPayload> => {
      const call = await ring(a, b);
      if (state === 'active') await b.api.post(`/api/calls/${call.id}/accept/`);
      if (state === 'ended') {
        await b.api.post(`/api/calls/${call.id}/accept/`);
        await a.api.post(`/api/calls/${call.id}/end/`);
      }
      if (state === 'rejected') await b.api.post(`/api/calls/${call.id}/reject/`);
      if (state === 'missed') await a.api.post(`/api/calls/${call.id}/end/`);
      return call;
    };
    // [from, to, who, expected status code, resulting status]
    const legal: [CallStatus, CallStatus, TestUser, number, CallStatus][] = [
      ['pending', 'active', b, 200, 'active'],
      ['pending', 'active', a, 403, 'pending'],
      ['pending', 'rejected', b, 200, 'rejected'],
      ['pending', 'rejected', a, 403, 'pending'],
      ['pending', 'missed', a, 200, 'missed'],
      ['pending', 'missed', b, 200, 'missed'],
      ['pending', 'ended', a, 200, 'missed'],
      ['active', 'ended', a, 200, 'ended'],
      ['active', 'ended', b, 200, 'ended'],
    ];
    const states: CallStatus[] = ['pending', 'active', 'ended', 'rejected', 'missed'];
    const cases = [...legal];
    for (const from of states) {
      for (const to of states) {
        if (!legal.some(([f, tt]) => f === from && tt === to)) cases.push([from, to, b, 400, from]);
      }
    }
    let method = 'PUT';
    for (const [from, to, who, code, result] of cases) {
      const call = await callIn(from);
      method = method === 'PUT' ? 'PATCH' : 'PUT';
      const res = await who.api.request(method, `/api/calls/${call.id}/`, { status: to });
      t.equal(res.status, code, `${method} ${from} → ${to} by ${who === a ? 'caller' : 'callee'}`);
      if (code === 400) t.same(res.body, { status: [`A ${from} call cannot become ${to}.`] });
      const now = (await a.api.get(`/api/calls/${call.id}/`)).body;
      t.equal(now.status, result);
      if (code === 200) t.same(res.body, now);
      if (now.status === 'pending' || now.status === 'active') await a.api.post(`/api/calls/${call.id}/end/`);
    }
    const call = await callIn('pending');
    t.same((await a.api.put(`/api/calls/${call.id}/`, {})).body, { status: ['This field is required.'] }, 'PUT needs a status');
    t.same((await a.api.put(`/api/calls/${call.id}/`, { status: 'paused' })).body, { status: ['"paused" is not a valid choice.'] });
    const noop = await a.api.patch(`/api/calls/${call.id}/`, {});
    t.equal(noop.status, 200, 'PATCH without a status changes nothing');
    t.equal(noop.body.status, 'pending');
    await a.api.post(`/api/calls/${call.id}/end/`);
  });

  t.test('duration is whole seconds from start to end', async (t) => {
    const [a, b] = await pair();
    const call = await ring(a, b);
    await b.api.post(`/api/calls/${call.id}/accept/`);
    // Pretend it started five minutes ago (already answered, so the ring timeout does not apply).
    await Call.update({ startedAt: new Date(Date.now() - 300_000 - 400) }, { where: { id: call.id } });
    t.equal((await a.api.get(`/api/calls/${call.id}/`)).body.duration, null, 'null while under way');
    const ended = (await b.api.post(`/api/calls/${call.id}/end/`)).body;
    t.equal(ended.duration, Math.floor((Date.parse(ended.ended_at) - Date.parse(ended.started_at)) / 1000));
    t.ok(ended.duration >= 300 && ended.duration <= 302, `duration ${ended.duration}`);
  });

  t.test('list, history, active and missed from both sides', async (t) => {
    const [x, y] = await pair();
    const z = await makeUser(api);
    const talked = await ring(x, y);
    await y.api.post(`/api/calls/${talked.id}/accept/`);
    await x.api.post(`/api/calls/${talked.id}/end/`);
    const declined = await ring(y, x);
    await x.api.post(`/api/calls/${declined.id}/reject/`);
    const xMissed = await ring(z, x);
    await z.api.post(`/api/calls/${xMissed.id}/end/`);
    const zMissed = await ring(x, z);
    await x.api.post(`/api/calls/${zMissed.id}/end/`);
    const live = await ring(x, y);

    const get = async (who: TestUser, list: string) => {
      const res = await who.api.get(`/api/calls/${list}`);
      t.equal(res.status, 200, `${list} for ${who.username}`);
      return ids(res.body);
    };
    t.same(await get(x, ''), [live.id, zMissed.id, xMissed.id, declined.id, talked.id], 'all of x, newest first');
    t.same(await get(x, 'history/'), [zMissed.id, xMissed.id, declined.id, talked.id]);
    t.same(await get(x, 'active/'), [live.id]);
    t.same(await get(x, 'missed/'), [xMissed.id], 'only calls x was called in');
    t.same(await get(y, ''), [live.id, declined.id, talked.id]);
    t.same(await get(y, 'history/'), [declined.id, talked.id]);
    t.same(await get(y, 'active/'), [live.id]);
    t.same(await get(y, 'missed/'), []);
    t.same(await get(z, 'history/'), [zMissed.id, xMissed.id]);
    t.same(await get(z, 'active/'), []);
    t.same(await get(z, 'missed/'), [zMissed.id]);

    const first = await x.api.get('/api/calls/history/?limit=3');
    t.same(ids(first.body), [zMissed.id, xMissed.id, declined.id]);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
    t.ok(next, 'Link to the next page');
    const second = await x.api.get(new URL(next!).pathname + new URL(next!).search);
    t.same(ids(second.body), [talked.id]);
    t.equal(second.headers.get('link'), null, 'last page');
    t.equal((await x.api.get('/api/calls/?limit=0')).status, 400, 'a bad limit is a 400');
    await y.api.post(`/api/calls/${live.id}/end/`);
  });

  t.test('delete', async (t) => {
    const [a, b] = await pair();
    const stranger = await makeUser(api);
    const done = await ring(a, b);
    await b.api.post(`/api/calls/${done.id}/reject/`);
    t.equal((await stranger.api.delete(`/api/calls/${done.id}/`)).status, 404);
    const res = await b.api.delete(`/api/calls/${done.id}/`);
    t.equal(res.status, 204);
    t.equal(res.body, null);
    t.equal((await a.api.get(`/api/calls/${done.id}/`)).status, 404, 'gone for both');

    const live = await ring(a, b);
    await b.api.post(`/api/calls/${live.id}/accept/`);
    t.equal((await a.api.delete(`/api/calls/${live.id}`)).status, 204);
    t.match((await eventFor(seen, 'call.ended', live.id)).payload, { call: { status: 'ended' }, byUserId: a.id }, 'a live call is hung up first');
    t.equal((await a.api.post('/api/calls/start/', { callee: b.id })).status, 201, 'and nobody is left busy');
  });

  t.test('ICE servers', async (t) => {
    const user = await makeUser(api);
    const res = await user.api.get('/api/calls/ice-servers/');
    t.equal(res.status, 200);
    t.same(res.body, { ice_servers: [{ urls: 'stun:stun.l.google.com:19302' }] });
  });

  t.test('racing requests: one wins', async (t) => {
    const [a, b] = await pair();
    const [c, d] = await pair();
    const call = await ring(a, b);
    const accepts = await Promise.all([b.api.post(`/api/calls/${call.id}/accept/`), b.api.post(`/api/calls/${call.id}/accept/`)]);
    t.same(accepts.map((r) => r.status).sort(), [200, 400], 'exactly one accept succeeds');
    t.equal(seen.filter((e) => e.name === 'call.accepted' && e.payload.call.id === call.id).length, 1, 'one call.accepted');
    const ends = await Promise.all([a.api.post(`/api/calls/${call.id}/end/`), b.api.post(`/api/calls/${call.id}/end/`)]);
    t.same(ends.map((r) => r.status).sort(), [200, 400], 'exactly one end succeeds');

    const starts = await Promise.all([c.api.post('/api/calls/start/', { callee: a.id }), d.api.post('/api/calls/start/', { callee: a.id })]);
    t.same(starts.map((r) => r.status).sort(), [201, 409], 'two calls to one person: one rings');
    const crossing = await Promise.all([a.api.post('/api/calls/start/', { callee: b.id }), b.api.post('/api/calls/start/', { callee: a.id })]);
    t.same(crossing.map((r) => r.status).sort(), [409, 409], 'a is ringing already');
    const winner = starts.find((r) => r.status === 201)!.body as CallPayload;
    await a.api.post(`/api/calls/${winner.id}/end/`);
    const crossed = await Promise.all([a.api.post('/api/calls/start/', { callee: b.id }), b.api.post('/api/calls/start/', { callee: a.id })]);
    t.same(crossed.map((r) => r.status).sort(), [201, 409], 'two people calling each other: one call');
    t.equal((await a.api.get('/api/calls/active/')).body.length, 1);
  });

  t.test('everyone ringing everyone at once, among DMs: nobody is in two calls', async (t) => {
    const people = [...(await pair()), ...(await pair()), ...(await pair())];
    const rings = people.flatMap((from) => people.filter((to) => to !== from).map((to) => from.api.post('/api/calls/start/', { callee: to.id })));
    // DMs in the same breath: on SQLite they share the writer's batches with the rings.
    const dms = people.map((from, i) => from.api.post('/api/messages/', { receiver: people[(i + 1) % people.length]!.id, content: `during the rings ${i}` }));
    const [ringing, sent] = await Promise.all([Promise.all(rings), Promise.all(dms)]);
    t.same([...new Set(sent.map((r) => r.status))], [201], 'every DM stored');
    t.same([...new Set(ringing.map((r) => r.status))].sort(), [201, 409], 'some ring, the rest are refused');
    const calls = ringing.filter((r) => r.status === 201).map((r) => r.body as CallPayload);
    const parties = calls.flatMap((c) => [c.caller.id, c.callee.id]);
    t.equal(new Set(parties).size, parties.length, 'no one is in two of the calls that rang');
    for (const person of people) t.ok((await person.api.get('/api/calls/active/')).body.length <= 1, 'at most one live call each');
    for (const c of calls) await people.find((p) => p.id === c.caller.id)!.api.post(`/api/calls/${c.id}/end/`);
  });
});

t.test('ring timeout', async (t) => {
  const server = await startTestServer(t, { ringTimeoutSeconds: 1 });
  const api = new Api(server.url);
  const seen = record(server.bus);
  const [a, b] = [await makeUser(api), await makeUser(api)];

  t.test('an unanswered call becomes missed after the timeout', async (t) => {
    const call = (await a.api.post('/api/calls/start/', { callee: b.id, call_type: 'audio' })).body as CallPayload;
    const missed = await eventFor(seen, 'call.missed', call.id, 2500);
    t.match(missed.payload.call, { id: call.id, status: 'missed', duration: 1 });
    t.notOk('byUserId' in missed.payload, 'nobody hung up');
    const now = (await b.api.get(`/api/calls/${call.id}/`)).body;
    t.match(now, { status: 'missed', answered_at: null, duration: 1 });
    t.equal(Date.parse(now.ended_at) - Date.parse(now.started_at), 1000, 'it stopped ringing at the deadline');
    t.same(ids((await b.api.get('/api/calls/missed/')).body), [call.id]);
    t.equal((await b.api.post(`/api/calls/${call.id}/accept/`)).status, 400, 'too late to answer');
    t.equal(seen.filter((e) => e.name === 'call.missed' && e.payload.call.id === call.id).length, 1, 'published once');
  });

  t.test('an answered call does not time out', async (t) => {
    const call = (await a.api.post('/api/calls/start/', { callee: b.id })).body as CallPayload;
    await b.api.post(`/api/calls/${call.id}/accept/`);
    await new Promise((r) => setTimeout(r, 1300));
    t.equal((await a.api.get(`/api/calls/${call.id}/`)).body.status, 'active');
    await a.api.post(`/api/calls/${call.id}/end/`);
  });

  t.test('calls left ringing by a previous run are swept at start', async (t) => {
    // As if the process died while these rang: no timer exists for them.
    const stale = await Call.create({ callerId: a.id, calleeId: b.id, callType: 'video', startedAt: new Date(Date.now() - 60_000) });
    const fresh = await Call.create({ callerId: b.id, calleeId: a.id, callType: 'audio', startedAt: new Date(Date.now() - 500) });
    const timer = new RingTimer(server.app.services.calls, server.bus, server.logger);
    t.teardown(() => timer.stop());
    await timer.start();
    await stale.reload();
    t.equal(stale.status, 'missed', 'overdue: missed at once');
    t.equal(stale.endedAt!.getTime() - stale.startedAt.getTime(), 1000, 'ended at its deadline, not at the sweep');
    t.ok(seen.some((e) => e.name === 'call.missed' && e.payload.call.id === stale.id));
    await fresh.reload();
    t.equal(fresh.status, 'pending', 'not yet due');
    await eventFor(seen, 'call.missed', fresh.id, 2000);
    t.equal(seen.filter((e) => e.name === 'call.missed' && e.payload.call.id === fresh.id).length, 1, 'published once');
  });
});
