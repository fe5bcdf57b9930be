/**
 * Terminal audio calls end to end: real server, real WebRTC (node-webrtc) between two
 * clients, real audio. In process (CallSession) and as a user runs them (the compiled
 * `jvai call` / `jvai answer` in child processes), including every way a call can stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { dominantFrequency, readWav, rms, toneWav, voiced } from './helpers/audio.js';
import { runCli, sessionDir } from './helpers/terminal.js';
import { JvaiClient } from '../cli/client/api.js';
import { CallSession, type CallState } from '../cli/call/session.js';
import { WavSink, WavSource } from '../cli/call/audio.js';
import { exitWhenDone } from './helpers/webrtc.js';

const CANDIDATES = [220, 330, 440, 550, 660, 880, 1000];

// The in-process CallSessions load node-webrtc.
exitWhenDone();

function tmpDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-call-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts a recording carries a clear 440 Hz tone. */
function assertTone(t: Test, file: string): void {
  const { rate, samples } = readWav(file);
  t.equal(rate, 48_000, 'written at 48 kHz');
  const sound = voiced(samples);
  t.ok(sound.length > rate, `more than a second of sound received (${(sound.length / rate).toFixed(2)} s)`);
  t.ok(rms(sound) > 0.05, `the audio has real energy (rms ${rms(sound).toFixed(3)})`);
  const { hz, powers } = dominantFrequency(sound, rate, CANDIDATES);
  t.equal(hz, 440, `440 Hz dominates: ${JSON.stringify(powers)}`);
  const others = CANDIDATES.filter((f) => f !== 440).map((f) => powers[f]);
  t.ok(powers[440] > 20 * Math.max(...others), 'by far');
}

const client = (server: string, user: TestUser) => new JvaiClient({ server, tokens: { access: user.access, refresh: user.refresh } });

const waitState = (session: CallSession, state: CallState): Promise<void> =>
  session.state === state ? Promise.resolve() : new Promise((resolve) => session.on('state', (s) => s === state && resolve()));

async function lastCall(user: TestUser): Promise<any> {
  const res = await user.api.get('/api/calls/');
  return res.body[0];
}

t.test('two CallSessions talk: 440 Hz arrives, hang-up ends the call on both sides', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const [alice, bob] = [await makeUser(api), await makeUser(api)];
  const dir = tmpDir(t);
  // 44.1 kHz stereo: the client converts it to what WebRTC takes (48 kHz mono).
  toneWav(path.join(dir, 'tone.wav'), { hz: 440, seconds: 3, rate: 44_100, channels: 2 });

  const caller = new CallSession({ api: client(server.url, alice), source: new WavSource(path.join(dir, 'tone.wav')), sink: new WavSink(path.join(dir, 'alice.wav')) });
  const callee = new CallSession({ api: client(server.url, bob), source: new WavSource(path.join(dir, 'tone.wav')), sink: new WavSink(path.join(dir, 'bob.wav')) });
  t.teardown(() => Promise.all([caller.close(), callee.close()]));
  const states: CallState[] = [];
  caller.on('state', (s) => states.push(s));
  await Promise.all([caller.open(), callee.open()]);

  const incoming = callee.nextIncoming(10_000);
  const call = await caller.place({ username: bob.username });
  t.equal(call.status, 'pending');
  const ring = await incoming;
  t.match(ring, { callId: call.id, caller: { id: alice.id, username: alice.username }, callType: 'audio' });
  await callee.accept(ring!);
  await Promise.all([waitState(caller, 'connected'), waitState(callee, 'connected')]);
  t.equal((await lastCall(alice)).status, 'active');

  await new Promise((r) => setTimeout(r, 3500));
  const [mine, theirs] = await Promise.all([caller.hangUp(), callee.ended]);
  t.same(states, ['ringing', 'connecting', 'connected', 'ended']);
  t.equal(mine.reason, 'hangup');
  t.equal(theirs.reason, 'remote-hangup');
  t.ok(mine.talkSeconds >= 3);
  t.equal(mine.call?.status, 'ended');

  assertTone(t, path.join(dir, 'bob.wav'));
  assertTone(t, path.join(dir, 'alice.wav'));
  for (const user of [alice, bob]) {
    const history = (await user.api.get('/api/calls/history/')).body;
    t.match(history[0], { id: call.id, status: 'ended', duration: Number }, `${user === alice ? 'caller' : 'callee'} sees it ended`);
    t.ok(history[0].duration >= 3);
  }
});

t.test('the CLI', async (t) => {
  const server = await startTestServer(t, { ringTimeoutSeconds: 2 });
  const api = new Api(server.url);
  const dir = tmpDir(t);
  const tone = path.join(dir, 'tone.wav');
  toneWav(tone, { hz: 440, seconds: 20 });
  const pair = async () => {
    const [a, b] = [await makeUser(api), await makeUser(api)];
    return { alice: a, bob: b, aliceDir: sessionDir(t, server.url, a), bobDir: sessionDir(t, server.url, b) };
  };

  t.test('call and answer with WAV files; Ctrl-C hangs up and both sides see it ended', async (t) => {
    const { alice, bob, aliceDir, bobDir } = await pair();
    const out = path.join(dir, 'answer-out.wav');
    const answer = runCli(t, bobDir, ['answer', '--output', out, '--input', tone, '--timeout', '20']);
    await answer.waitFor(/waiting up to 20 s/);
    const call = runCli(t, aliceDir, ['call', bob.username, '--input', tone]);
    await call.waitFor(new RegExp(`ringing ${bob.username}`));
    await answer.waitFor(new RegExp(`incoming audio call from ${alice.username}`));
    await Promise.all([call.waitFor(/connected to/), answer.waitFor(/connected to/)]);
    await new Promise((r) => setTimeout(r, 3000));
    call.child.kill('SIGINT');
    t.equal(await call.exited(), 0, call.stderr);
    t.match(call.stdout, /call ended after 0:0[3-9]\n$/);
    t.notMatch(call.stdout, /offline/, 'the callee was online: no offline notice');
    t.equal(await answer.exited(), 0, answer.stderr);
    t.match(answer.stdout, new RegExp(`${alice.username} hung up: call ended after 0:0\\d\\n$`));
    assertTone(t, out);
    const record = await lastCall(bob);
    t.match(record, { status: 'ended', duration: Number });
  });

  t.test('--duration hangs up by itself', async (t) => {
    const { bob, aliceDir, bobDir } = await pair();
    const answer = runCli(t, bobDir, ['answer', '--timeout', '20', '--output', path.join(dir, 'd.wav')]);
    await answer.waitFor(/waiting/);
    const call = runCli(t, aliceDir, ['call', bob.username, '--input', tone, '--duration', '2']);
    t.equal(await call.exited(), 0, call.stderr);
    // Exactly two seconds of talk; a loaded machine may take a moment longer to tear down.
    t.match(call.stdout, /call ended after 0:0[23]\n$/);
    t.equal(await answer.exited(), 0);
    t.equal((await lastCall(bob)).status, 'ended');
    t.match(answer.stderr, /no microphone tool \(arecord or sox\) found: sending silence/, 'says so when there is no sound tool');
  });

  t.test('the callee rejects: the caller exits saying so, the call is rejected', async (t) => {
    const { alice, bob, aliceDir, bobDir } = await pair();
    const answer = runCli(t, bobDir, ['answer', '--reject', '--timeout', '20']);
    await answer.waitFor(/waiting/);
    const call = runCli(t, aliceDir, ['call', bob.username]);
    t.equal(await call.exited(), 1);
    t.match(call.stdout, new RegExp(`${bob.username} rejected the call\\n$`));
    t.equal(await answer.exited(), 0);
    t.match(answer.stdout, new RegExp(`call from ${alice.username} rejected\\n$`));
    t.equal((await lastCall(alice)).status, 'rejected');
  });

  t.test('nobody answers: the ring times out and the call is missed', async (t) => {
    const { bob, aliceDir } = await pair();
    const call = runCli(t, aliceDir, ['call', bob.username]);
    t.equal(await call.exited(), 1);
    t.match(call.stdout, new RegExp(`ringing ${bob.username}[^\\n]*…\\n${bob.username} is offline: it rings on in case they come online`), 'says the callee is offline');
    t.match(call.stdout, new RegExp(`no answer from ${bob.username}: call missed\\n$`));
    t.equal((await lastCall(bob)).status, 'missed');
    t.equal((await bob.api.get('/api/calls/missed/')).body.length, 1);
  });

  t.test('Ctrl-C while it rings cancels the call (missed, never left pending)', async (t) => {
    const { bob, aliceDir } = await pair();
    const call = runCli(t, aliceDir, ['call', bob.username]);
    await call.waitFor(/ringing/);
    call.child.kill('SIGTERM');
    t.equal(await call.exited(), 1);
    t.match(call.stdout, /hung up before .* answered: call cancelled \(missed\)\n$/);
    t.equal((await lastCall(bob)).status, 'missed');
  });

  t.test('the callee is killed mid-call: the caller notices the silence and ends the call', async (t) => {
    const { bob, aliceDir, bobDir } = await pair();
    const answer = runCli(t, bobDir, ['answer', '--input', tone, '--output', path.join(dir, 'k.wav'), '--timeout', '20']);
    await answer.waitFor(/waiting/);
    const call = runCli(t, aliceDir, ['call', bob.username, '--input', tone, '--output', path.join(dir, 'k2.wav')]);
    await Promise.all([call.waitFor(/connected to/), answer.waitFor(/connected to/)]);
    answer.child.kill('SIGKILL');
    // No packets for 8 s (the media timeout) means the peer is gone.
    t.equal(await call.exited(25_000), 1);
    t.match(call.stdout, new RegExp(`connection lost \\(no audio from ${bob.username} for 8 s\\): call ended after 0:\\d\\d\\n$`));
    t.match(await lastCall(bob), { status: 'ended', duration: Number });
  });

  t.test('answer gives up after --timeout; bad input is refused before any call', async (t) => {
    const { bob, aliceDir, bobDir } = await pair();
    fs.writeFileSync(path.join(dir, 'bogus.wav'), 'not audio');
    const answer = runCli(t, bobDir, ['answer', '--timeout', '1']);
    const bad = runCli(t, aliceDir, ['call', bob.username, '--input', path.join(dir, 'bogus.wav')]);
    const missing = runCli(t, aliceDir, ['call', bob.username, '--input', path.join(dir, 'nope.wav')]);
    const nobody = runCli(t, aliceDir, ['call', 'no-such-user-here']);
    const usage = runCli(t, aliceDir, ['call', bob.username, '--duration', '0']);
    t.equal(await answer.exited(), 1);
    t.match(answer.stdout, /no incoming call within 1 s\n$/);
    t.equal(await bad.exited(), 1);
    t.match(bad.stderr, /bogus\.wav: not a WAV file/);
    t.equal(await missing.exited(), 1);
    t.match(missing.stderr, /cannot read .*nope\.wav: no such file/);
    t.equal(await nobody.exited(), 1);
    t.match(nobody.stderr, 'jvai: no user named "no-such-user-here"');
    t.equal(await usage.exited(), 2);
    t.match(usage.stderr, /Expected a number of seconds greater than 0/);
    t.same((await bob.api.get('/api/calls/')).body, [], 'no call was placed');
  });
});
