/**
 * A call in the terminal, shared by `jvai call` and `jvai answer`: opens the audio, runs a
 * CallSession, shows its state (a live duration on a terminal, one line per change
 * otherwise), hangs up on Ctrl-C/SIGTERM or after --duration, and ends with one clear line.
 * Exit code 0 when the call connected (or was declined as asked), 1 otherwise.
 */
import type { SessionContext } from '../commands/client/context.js';
import type { NestedUser } from '../client/types.js';
import { DiscardSink, openAudio, SilenceSource, type CallAudio } from './audio.js';
import { CallSession, type CallEnd, type CallState } from './session.js';
import { loadWebRtc, webRtcLoaded } from './webrtc.js';

export interface CallCommandOptions {
  input?: string;
  output?: string;
  /** Hang up this many seconds after the call connects. */
  duration?: number;
  /** false: open no sound device (declining a call needs none). */
  audio?: boolean;
}

/** What the command does once the session is open; resolves false when no call happened. */
export type CallStarter = (session: CallSession, say: (line: string) => void) => Promise<boolean>;

/** `alice (Alice Liddell)`, or just `alice` when there is no other name. */
export const describeUser = (u: NestedUser | null): string =>
  u ? (u.full_name && u.full_name !== u.username ? `${u.username} (${u.full_name})` : u.username) : 'the other side';

export async function runCall(ctx: SessionContext, options: CallCommandOptions, start: CallStarter): Promise<void> {
  const { fmt } = ctx;
  const live = Boolean(process.stdout.isTTY);
  let liveLine = false;
  const clearLive = () => {
    if (liveLine) process.stdout.write('\r\x1b[2K');
    liveLine = false;
  };
  const say = (line: string) => {
    clearLive();
    process.stdout.write(`${line}\n`);
  };
  const warn = (message: string) => {
    clearLive();
    process.stderr.write(`jvai: warning: ${message}\n`);
  };

  const audio: CallAudio = options.audio === false ? { source: new SilenceSource(), sink: new DiscardSink() } : openAudio({ input: options.input, output: options.output, problem: warn });
  // Said once a call is actually under way: not before an error such as an unknown user.
  let audioNotice = audio.notice;
  const session = new CallSession({ api: ctx.api, source: audio.source, sink: audio.sink });
  session.on('warning', warn);

  let ticker: NodeJS.Timeout | undefined;
  let hangUpTimer: NodeJS.Timeout | undefined;
  const showState = (state: CallState) => {
    const peer = session.peer?.username ?? 'the other side';
    if (audioNotice && (state === 'ringing' || state === 'connecting')) {
      warn(audioNotice);
      audioNotice = undefined;
    }
    if (state === 'ringing') say(`ringing ${describeUser(session.peer)}…`);
    else if (state === 'connecting') say(`connecting to ${peer}…`);
    else if (state === 'connected') {
      say(`connected to ${describeUser(session.peer)} — sending ${audio.source.label}, playing to ${audio.sink.label}${live ? ' (Ctrl-C hangs up)' : ''}`);
      if (options.duration) {
        // Timers may fire a little early by performance.now(), the clock talkSeconds reads:
        // re-arm until the full duration has passed on that clock, so the call lasts exactly that.
        const end = (session.connectedAt ?? performance.now()) + options.duration * 1000;
        const hangUpAtEnd = () => {
          const left = end - performance.now();
          if (left > 0) hangUpTimer = setTimeout(hangUpAtEnd, Math.ceil(left));
          else void session.hangUp();
        };
        hangUpAtEnd();
      }
      if (live) {
        const draw = () => {
          process.stdout.write(`\r\x1b[2K${fmt.style.green('●')} in call with ${peer} ${fmt.duration(session.talkSeconds)}`);
          liveLine = true;
        };
        draw();
        ticker = setInterval(draw, 1000);
      }
    }
  };
  session.on('state', showState);

  // The first Ctrl-C/SIGTERM hangs up properly (the record must end); a second one gives up waiting.
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    void session.hangUp();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let happened = false;
  try {
    // Media needs node-webrtc: find out it is missing before a call rings anywhere.
    if (options.audio !== false) await loadWebRtc();
    await session.open();
    happened = session.state !== 'ended' && (await start(session, say));
    const end = happened ? await session.ended : null;
    clearInterval(ticker);
    clearTimeout(hangUpTimer);
    if (end) {
      const { line, ok } = describeEnd(end, session, fmt.duration);
      say(line);
      if (!ok) process.exitCode = 1;
    } else process.exitCode = 1;
  } finally {
    clearInterval(ticker);
    clearTimeout(hangUpTimer);
    await session.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Exit explicitly (see webRtcLoaded); setImmediate lets the command's error handler print
    // first, and stdout/stderr writes to pipes, files and terminals are synchronous.
    if (webRtcLoaded()) setImmediate(() => process.exit());
  }
}

/** The final line: how the call ended, and whether that counts as success. */
function describeEnd(end: CallEnd, session: CallSession, duration: (s: number) => string): { line: string; ok: boolean } {
  const peer = session.peer?.username ?? 'the other side';
  const connected = session.connectedAt !== null;
  const after = `call ended after ${duration(end.talkSeconds)}`;
  const weCalled = session.role === 'caller';
  switch (end.reason) {
    case 'hangup':
      if (connected) return { line: after, ok: true };
      return { line: `hung up before ${peer} answered: call cancelled (${end.call?.status ?? 'missed'})`, ok: false };
    case 'remote-hangup':
      return connected ? { line: `${peer} hung up: ${after}`, ok: true } : { line: `${peer} hung up: call ended before it connected`, ok: false };
    case 'rejected':
      return weCalled ? { line: `${peer} rejected the call`, ok: false } : { line: `call from ${peer} rejected`, ok: true };
    case 'missed':
      return { line: weCalled ? `no answer from ${peer}: call missed` : `the call from ${peer} was missed`, ok: false };
    case 'lost':
      return { line: `connection lost (${end.detail ?? 'unknown cause'}): ${after}`, ok: false };
    case 'failed':
      return { line: `call failed (${end.detail ?? 'unknown cause'}): call ended`, ok: false };
  }
}
