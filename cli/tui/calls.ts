/** Calls from the chat screen: the ringing popup, placing, answering, declining and hanging up. */
import { duration } from '../client/format.js';
import type { CallEvent } from '../../src/schemas/protocol.js';
import type { AudioOptions, AudioSink, AudioSource } from '../call/audio.js';
import type { CallEnd, CallSession, CallState, IncomingCall } from '../call/session.js';
import type { ChatContext } from './context.js';

export type CallView =
  | { phase: 'incoming'; incoming: IncomingCall }
  | { phase: 'call'; peer: string; state: CallState; seconds: number };

export class Calls {
  private incoming: IncomingCall | null = null;
  private session: CallSession | null = null;
  private ticker: NodeJS.Timeout | null = null;

  /** `audio`: where calls get their sound (WAV files instead of the sound tools). */
  constructor(
    private readonly chat: ChatContext,
    private readonly audio?: AudioOptions,
  ) {}

  /** A call to us rings (unless we are busy). */
  started(e: CallEvent): void {
    if (e.call.callee.id !== this.chat.me || this.incoming || this.session) return;
    this.incoming = { callId: e.call.id, caller: e.call.caller, callType: e.call.call_type };
    this.chat.changed();
  }

  /** The ringing call was answered elsewhere, or hung up, or timed out: the popup goes. */
  over(e: CallEvent): void {
    if (this.incoming?.callId !== e.call.id) return;
    this.incoming = null;
    if (e.call.status === 'missed') this.chat.tell(`missed call from ${e.call.caller.username}`);
    else this.chat.changed();
  }

  /** `c`: calls the person of the selected conversation. */
  async callUser(userId: number): Promise<void> {
    if (this.session || this.incoming) return void this.chat.tell('already in a call');
    const session = await this.newSession(true);
    if (!session) return;
    await this.begin(session, () => session.place({ id: userId }));
    if (await session.calleeOffline()) this.chat.tell(`${session.peer?.username ?? 'they'} is offline: ringing anyway`);
  }

  /** `a`: answers the ringing call. */
  async accept(): Promise<void> {
    const incoming = this.incoming;
    if (!incoming) return;
    this.incoming = null;
    const session = await this.newSession(true);
    if (session) await this.begin(session, () => session.accept(incoming));
  }

  /** `r`: declines the ringing call (no audio is opened for that). */
  async reject(): Promise<void> {
    const incoming = this.incoming;
    if (!incoming) return;
    this.incoming = null;
    const session = await this.newSession(false);
    if (session) await this.chat.guard(() => session.reject(incoming));
    this.chat.changed();
  }

  /** `h`: hangs up the call. */
  async hangUp(): Promise<void> {
    await this.session?.hangUp();
  }

  /** What the screen shows: the popup, the call under way, or nothing. */
  view(): CallView | null {
    const session = this.session;
    if (this.incoming) return { phase: 'incoming', incoming: this.incoming };
    return session ? { phase: 'call', peer: session.peer?.username ?? '…', state: session.state, seconds: session.talkSeconds } : null;
  }

  /** Hangs up a call under way and stops the ticker. */
  async stop(): Promise<void> {
    this.stopTicker();
    await this.session?.hangUp().catch(() => undefined);
  }

  /** Opens the session and places or accepts the call; a session that never got a call is dropped quietly. */
  private async begin(session: CallSession, start: () => Promise<unknown>): Promise<void> {
    const ok = await this.chat.guard(async () => {
      await session.open();
      await start();
      return true;
    });
    if (!ok && session.state === 'idle') {
      // The notice says what failed; the session's own "ended" would only hide it.
      session.removeAllListeners();
      this.session = null;
      await session.close();
    }
    this.chat.changed();
  }

  private async newSession(withAudio: boolean): Promise<CallSession | null> {
    const [{ CallSession }, audioModule, { loadWebRtc }] = await Promise.all([import('../call/session.js'), import('../call/audio.js'), import('../call/webrtc.js')]);
    let audio: { source: AudioSource; sink: AudioSink; notice?: string };
    try {
      // Media needs node-webrtc: find out it is missing before a call rings anywhere.
      if (withAudio) await loadWebRtc();
      audio = withAudio
        ? audioModule.openAudio({ ...this.audio, problem: (message) => this.chat.tell(message) })
        : { source: new audioModule.SilenceSource(), sink: new audioModule.DiscardSink() };
    } catch (err) {
      this.chat.tell((err as Error).message);
      return null;
    }
    if (audio.notice) this.chat.tell(audio.notice);
    const session = new CallSession({ api: this.chat.api, source: audio.source, sink: audio.sink });
    this.session = session;
    session.on('warning', (message) => this.chat.tell(message));
    session.on('state', (state) => {
      if (state === 'connected') this.ticker = setInterval(() => this.chat.changed(), 1_000);
      this.chat.changed();
    });
    session.on('ended', (end) => {
      this.stopTicker();
      if (this.session === session) this.session = null;
      this.chat.tell(describeEnd(end, session.peer?.username ?? 'the other side'));
    });
    return session;
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }
}

function describeEnd(end: CallEnd, peer: string): string {
  switch (end.reason) {
    case 'hangup':
    case 'remote-hangup':
      return end.talkSeconds ? `call with ${peer} ended after ${duration(end.talkSeconds)}` : `call with ${peer} ended`;
    case 'rejected':
      return `call with ${peer} rejected`;
    case 'missed':
      return `call with ${peer} missed`;
    case 'lost':
    case 'failed':
      return `call with ${peer} ${end.reason}: ${end.detail ?? 'unknown cause'}`;
  }
}
