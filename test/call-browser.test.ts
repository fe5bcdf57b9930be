/**
 * Interop: a browser (Debian's headless Chromium, driven by playwright-core) calls a terminal
 * running `jvai answer`, the way a web client would: REST for the call, the
 * /ws/calls/?token= socket for signaling, its own WebRTC stack. Chromium's fake microphone
 * plays a 440 Hz WAV, which must arrive in the terminal's recording; the terminal's 660 Hz
 * must arrive in the browser.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import type { Test } from 'tap';
import { chromium, type Page } from 'playwright-core';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { dominantFrequency, readWav, rms, toneWav, voiced } from './helpers/audio.js';
import { runCli, sessionDir } from './helpers/terminal.js';

const CHROMIUM = '/usr/bin/chromium';

/** The web client: places a call and plays the callee's part of the protocol a browser plays. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>jvai call</title><script>
window.state = 'idle';
window.placeCall = async ({ token, wsUrl, callee }) => {
  const headers = { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' };
  const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  const ws = new WebSocket(wsUrl + '?token=' + encodeURIComponent(token));
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const pc = new RTCPeerConnection({ iceServers: [] });
  stream.getTracks().forEach((track) => pc.addTrack(track, stream));
  const res = await fetch('/api/calls/', { method: 'POST', headers, body: JSON.stringify({ receiver_username: callee, call_type: 'audio' }) });
  const call = await res.json();
  if (res.status !== 201) throw new Error('call refused: ' + JSON.stringify(call));
  window.state = 'ringing';
  const pending = [];
  const send = (frame) => ws.send(JSON.stringify({ ...frame, call_id: call.id }));
  pc.onicecandidate = ({ candidate }) => candidate && send({ type: 'ice_candidate', candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex });
  pc.onconnectionstatechange = () => { if (window.state !== 'ended') window.state = pc.connectionState; };
  // What the browser hears, analysed: WebAudio reads a remote stream only while a media element plays it.
  let analyser, audioContext;
  pc.ontrack = ({ track, streams }) => {
    const remote = streams[0] || new MediaStream([track]);
    const audio = new Audio();
    audio.muted = true;
    audio.srcObject = remote;
    audio.play();
    audioContext = new AudioContext();
    analyser = audioContext.createAnalyser();
    analyser.fftSize = 8192;
    audioContext.createMediaStreamSource(remote).connect(analyser);
  };
  ws.onmessage = async ({ data }) => {
    const frame = JSON.parse(data);
    if (frame.call_id !== call.id) return;
    if (frame.type === 'call_accepted') {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send({ type: 'offer', sdp: offer.sdp });
    } else if (frame.type === 'answer') {
      await pc.setRemoteDescription({ type: 'answer', sdp: frame.sdp });
      for (const c of pending.splice(0)) await pc.addIceCandidate(c);
    } else if (frame.type === 'ice_candidate') {
      const c = { candidate: frame.candidate, sdpMid: frame.sdpMid, sdpMLineIndex: frame.sdpMLineIndex };
      if (pc.remoteDescription) await pc.addIceCandidate(c); else pending.push(c);
    } else if (frame.type === 'call_ended' || frame.type === 'call_rejected') {
      window.state = 'ended';
      pc.close();
    }
  };
  window.hangUp = async () => {
    await fetch('/api/calls/' + call.id + '/end/', { method: 'POST', headers });
    window.state = 'ended';
    pc.close();
    ws.close();
  };
  window.received = async () => {
    let packets = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') packets += s.packetsReceived; });
    const codec = pc.getTransceivers()[0].sender.getParameters().codecs?.[0]?.mimeType;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let peak = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[peak]) peak = i;
    return { packets, codec, peakHz: (peak * audioContext.sampleRate) / analyser.fftSize, peakDb: bins[peak] };
  };
  return call.id;
};
</script>`;

/** Serves the page, and passes /api/ to the jvai server so the page's REST calls are same-origin. */
async function pageServer(t: Test, apiUrl: string): Promise<string> {
  const api = new URL(apiUrl);
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/api/')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const upstream = http.request({ host: api.hostname, port: api.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function until(page: Page, state: string, ms = 20_000): Promise<void> {
  await page.waitForFunction((s) => window.state === s, state, { timeout: ms });
}

declare global {
  interface Window {
    state: string;
  }
}

// In CI a missing browser is a failure, not a skip: the interop test must never silently not run.
const noBrowser = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium; .ci/run does)`;
if (noBrowser && process.env.CI === 'true') t.fail(`${noBrowser}, and CI=true requires it`);

t.test('a browser calls the terminal', { skip: noBrowser }, async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const [alice, bob] = [await makeUser(api), await makeUser(api)];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-browser-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const mic = path.join(dir, 'mic.wav');
  const terminalTone = path.join(dir, 'terminal.wav');
  const out = path.join(dir, 'out.wav');
  toneWav(mic, { hz: 440, seconds: 10 });
  toneWav(terminalTone, { hz: 660, seconds: 10 });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${mic}`,
      // The page analyses what it receives with WebAudio, which otherwise waits for a user gesture.
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(await pageServer(t, server.url));

  const answer = runCli(t, sessionDir(t, server.url, bob), ['answer', '--output', out, '--input', terminalTone, '--timeout', '30']);
  await answer.waitFor(/waiting up to 30 s/);
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/ws/calls/`;
  const callId = await page.evaluate((cfg) => (window as any).placeCall(cfg), { token: alice.access, wsUrl, callee: bob.username });
  await answer.waitFor(new RegExp(`incoming audio call from ${alice.username}`));
  await Promise.all([answer.waitFor(/connected to/), until(page, 'connected')]);
  await new Promise((r) => setTimeout(r, 4000));

  const received = await page.evaluate(() => (window as any).received());
  t.equal(received.codec, 'audio/opus', 'they agreed on Opus');
  t.ok(received.packets > 100, `the browser receives the terminal's audio (${received.packets} packets)`);
  t.ok(Math.abs(received.peakHz - 660) < 12, `the terminal's 660 Hz is what the browser hears loudest (${received.peakHz.toFixed(1)} Hz at ${received.peakDb.toFixed(1)} dB)`);
  t.ok(received.peakDb > -60, 'well above the noise floor');

  await page.evaluate(() => (window as any).hangUp());
  t.equal(await answer.exited(), 0, answer.stderr);
  t.match(answer.stdout, new RegExp(`${alice.username} hung up: call ended after 0:0\\d\\n$`));

  const { rate, samples } = readWav(out);
  const sound = voiced(samples);
  t.ok(sound.length > 2 * rate, `the terminal recorded ${(sound.length / rate).toFixed(2)} s of sound`);
  // Chromium's capture applies automatic gain control, so the level varies from run to run.
  t.ok(rms(sound) > 0.01, `with real energy (rms ${rms(sound).toFixed(3)})`);
  const { hz, powers } = dominantFrequency(sound, rate, [220, 330, 440, 550, 660, 880, 1000]);
  t.equal(hz, 440, `the browser's 440 Hz arrived: ${JSON.stringify(powers)}`);

  const record = (await bob.api.get(`/api/calls/${callId}/`)).body;
  t.match(record, { status: 'ended', duration: Number });
  t.same(pageErrors, [], 'no errors in the page');
});
