/**
 * Fuzz of the realtime channels, as test/fuzz.test.ts does for REST: whatever a client sends on a
 * raw WebSocket endpoint or as a socket.io request, the answer is in the API's words — never
 * "Internal error.", never a stack trace, never an error in the server's log — and the
 * connection stays open and keeps answering.
 */
import t from 'tap';
import fc from 'fast-check';
import type { WebSocket } from 'ws';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { capturingLogger } from './helpers/logs.js';
import { connectWs, framesBefore, framesBeforePong, wsUrl, type Frame } from './helpers/ws.js';
import { connectIo, request } from './helpers/socketio.js';
import { FUZZ_RUNS, FUZZ_SEED, LEAK } from './helpers/fuzz.js';

/** Frames are cheap: ten times the REST test's cases. */
const RUNS = FUZZ_RUNS * 10;

t.test('realtime fuzz: every frame and request is answered in the API words, and the connection lives on', async (t) => {
  const { logger, lines } = capturingLogger();
  // No frame-rate limit: its refusals would hide what the frames do (test/flood.test.ts has it).
  const server = await startTestServer(t, {}, { burst: 1e9, perSecond: 1e9, maxStrikes: 1e9 }, logger);
  const api = new Api(server.url);
  const alice = await makeUser(api);
  const bob = await makeUser(api);
  const group = (await alice.api.post('/api/groups/', { name: 'fuzz' })).body;
  const call = (await alice.api.post('/api/calls/', { receiver: bob.id, call_type: 'audio' })).body;
  t.ok(group.id && call.id, 'fixtures created');

  // Each field mostly well-formed, so that frames reach the handlers, else odd: ids that do not
  // or cannot exist, odd text, an object whose own toString is no function, then anything at all.
  const odd = fc.oneof(
    fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1e308, '', ' ', '\u0000', 'x'.repeat(6000), null, true, { toString: '[' }, [call.id]),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.anything({ maxDepth: 2 }),
  );
  const or = (good: fc.Arbitrary<unknown>) => fc.oneof({ weight: 3, arbitrary: good }, odd);
  const frame = fc.record(
    {
      type: or(fc.constantFrom('message', 'offer', 'answer', 'ice_candidate', 'ping', 'constructor', '__proto__', '')),
      content: or(fc.constantFrom('hello', 'offer', '  spaced  ', 'é🙂')),
      client_id: or(fc.uuid()),
      call_id: or(fc.constant(call.id)),
      sdp: or(fc.constant('v=0')),
      candidate: or(fc.constant('')),
      sdpMid: or(fc.constant('0')),
      sdpMLineIndex: or(fc.constant(0)),
      to: or(fc.constant(bob.id)),
      group_id: or(fc.constant(group.id)),
      to_user: or(fc.constant(bob.id)),
      message_id: or(fc.constant(1)),
      is_typing: or(fc.boolean()),
    },
    { requiredKeys: ['type', 'content', 'call_id', 'sdp', 'candidate', 'to', 'message_id', 'is_typing'] },
  );
  const anyFrame = fc.oneof({ weight: 9, arbitrary: frame }, fc.anything({ maxDepth: 2 }));

  const paths = [`/ws/messages/${bob.id}/`, `/ws/group/${group.id}/`, '/ws/status/', '/ws/calls/'];
  const sockets: WebSocket[] = [];
  for (const path of paths) sockets.push(await connectWs(wsUrl(server.url, path), alice.access));
  t.teardown(() => sockets.forEach((s) => s.close()));
  const io = await connectIo(t, server.url, alice.access);

  const refused = (where: string, answer: unknown) => {
    const text = JSON.stringify(answer);
    if (/Internal error/.test(text)) throw new Error(`internal error: ${where} → ${text.slice(0, 300)}`);
    if (LEAK.test(text)) throw new Error(`leak: ${where} → ${text.slice(0, 300)}`);
  };

  await fc.assert(
    fc.asyncProperty(anyFrame, async (f) => {
      const text = JSON.stringify(f) ?? 'null';
      // A `ping` is answered with a pong of its own: waited for too, or every later frame's
      // answers would be read with the frame before it.
      const pongs = (f as { type?: unknown } | null)?.type === 'ping' ? 1 : 0;
      for (const [i, socket] of sockets.entries()) {
        socket.send(text);
        // Requests are answered in order: everything this frame caused comes before the pong.
        const answers: Frame[] = pongs ? await framesBefore(socket, (a) => a.type === 'pong') : [];
        answers.push(...(await framesBeforePong(socket)));
        refused(`${paths[i]} ${text.slice(0, 200)}`, answers);
      }
    }),
    { numRuns: RUNS, seed: FUZZ_SEED, endOnFailure: true },
  );

  const events = ['dm:send', 'group:send', 'dm:read', 'typing', 'call:signal'] as const;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...events), anyFrame, async (event, data) => {
      const ack = await request(io, event, data);
      refused(`${event} ${String(JSON.stringify(data)).slice(0, 200)}`, ack);
    }),
    { numRuns: RUNS, seed: FUZZ_SEED, endOnFailure: true },
  );

  t.ok(sockets.every((s) => s.readyState === s.OPEN) && io.connected, 'every connection is still open');
  const errors = lines.filter((l) => l.level >= 50);
  t.same(
    errors.map((l) => `${l.msg}: ${l.err?.message}`),
    [],
    'nothing went wrong on the server',
  );
});
