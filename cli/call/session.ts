/**
 * One audio call over standard WebRTC (node-webrtc: SDP offer/answer, Opus, trickle ICE),
 * signaled the way a browser does it: REST for the call record, /ws/calls/ for the rest.
 * The caller sends its offer once the callee accepts; the callee answers it. However the call
 * stops, the record ends on the server: we POST end when we hang up or lose the peer, and
 * the other side's hang-up, reject or ring timeout reaches us as a frame.
 *
 * A CallSession reports through events and never prints: the commands and the TUI render it.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ApiError, type JvaiClient, type UserRef } from '../client/api.js';
import type { Call, NestedUser } from '../client/types.js';
import type { AudioSink, AudioSource } from './audio.js';
import { CallSocket, type CallServerFrame } from './signaling.js';
import { PeerMedia, type IceCandidate } from './media.js';

export type CallState = 'idle' | 'ringing' | 'connecting' | 'connected' | 'ended';

/**
 * Why a call stopped: `hangup` (we did), `remote-hangup` (they did), `rejected`, `missed`
 * (nobody answered in time, or the caller gave up while it rang), `lost` (the peer or the
 * network went silent), `failed` (no media connection could be made).
 */
export type EndReason = 'hangup' | 'remote-hangup' | 'rejected' | 'missed' | 'lost' | 'failed';

export interface CallEnd {
  reason: EndReason;
  /** The final call record from the server (null if it could not be read). */
  call: Call | null;
  /** Seconds the media connection was up (0 if it never was). */
  talkSeconds: number;
  /** A detail for `lost`/`failed` (which part gave up). */
  detail?: string;
}

export interface IncomingCall {
  callId: number;
  caller: NestedUser;
  callType: Call['call_type'];
}

export interface CallSessionOptions {
  api: JvaiClient;
  source: AudioSource;
  sink: AudioSink;
  /** ICE servers to use instead of the server's (GET /api/calls/ice-servers/). */
  iceServers?: RTCIceServer[];
  /** A connected call that receives no packets for this long is over (the peer died or the network did). */
  mediaTimeoutMs?: number;
  /** An accepted call whose media is not connected within this long has failed. */
  connectTimeoutMs?: number;
}

interface SessionEvents {
  state: [CallState];
  /** A call rings for us (only while idle). */
  incoming: [IncomingCall];
  /** Something went wrong that does not end the call (a refused signaling frame…). */
  warning: [string];
  ended: [CallEnd];
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
const MEDIA_TIMEOUT_MS = 8_000;
const CONNECT_TIMEOUT_MS = 20_000;

export class CallSession extends EventEmitter<SessionEvents> {
  state: CallState = 'idle';
  /** The call record as last seen (pending on start, final after 'ended'). */
  call: Call | null = null;
  /** Which side of the call we are, once there is one. */
  role: 'caller' | 'callee' | null = null;
  /** The other participant, once known. */
  peer: NestedUser | null = null;
  /** performance.now() when media connected, for the live duration. */
  connectedAt: number | null = null;
  /** Resolves once the call is over and everything is released. */
  readonly ended: Promise<CallEnd>;

  private readonly api: JvaiClient;
  private readonly options: CallSessionOptions;
  /** The call's id, known before its record when we accept (the offer may beat the accept response). */
  private callId: number | null = null;
  private socket: CallSocket | null = null;
  private iceServers: RTCIceServer[] = [];
  private media: PeerMedia | null = null;
  private timers: NodeJS.Timeout[] = [];
  private finishing = false;
  private resolveEnded!: (end: CallEnd) => void;

  constructor(options: CallSessionOptions) {
    super();
    this.options = options;
    this.api = options.api;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Seconds since media connected (0 before). */
  get talkSeconds(): number {
    return this.connectedAt === null ? 0 : Math.floor((performance.now() - this.connectedAt) / 1000);
  }

  /** Opens the signaling socket (before placing or awaiting a call, so no frame is missed). */
  async open(): Promise<void> {
    // An authenticated request first: it refreshes an expired access token for the socket too.
    this.iceServers = this.options.iceServers ?? (await this.serverIceServers());
    const access = this.api.tokens?.access;
    if (!access) throw new Error('not logged in: run `jvai login`');
    const socket = await CallSocket.connect(this.api.server, access);
    // Hung up (Ctrl-C) while the socket was opening: nothing left to signal about.
    if (this.state === 'ended') return socket.close();
    this.socket = socket;
    socket.on('frame', (frame) => void this.onFrame(frame));
    socket.on('lost', (code, reason) => void this.finish('lost', { postEnd: true, detail: `the signaling connection closed (${code}${reason ? ` ${reason}` : ''})` }));
  }

  /**
   * The server's STUN/TURN servers. On a loopback server both ends are on this machine:
   * host candidates connect them, and STUN servers out there may not even be reachable.
   */
  private async serverIceServers(): Promise<RTCIceServer[]> {
    const { ice_servers } = await this.api.request<{ ice_servers: RTCIceServer[] }>('GET', '/api/calls/ice-servers/');
    return LOOPBACK.test(new URL(this.api.server).hostname) ? [] : ice_servers;
  }

  /** Calls a user: the call rings until they answer, reject, or the ring times out. */
  async place(who: UserRef, callType: Call['call_type'] = 'audio'): Promise<Call> {
    this.requireState('idle');
    const to = 'id' in who ? { receiver: who.id } : { receiver_username: who.username };
    const call = await this.api.request<Call>('POST', '/api/calls/', { json: { ...to, call_type: callType } });
    this.call = call;
    this.callId = call.id;
    this.role = 'caller';
    this.peer = call.callee;
    this.setState('ringing');
    return call;
  }

  /**
   * Whether the user we call is offline (holds no realtime connection). The call rings anyway:
   * they may come online while it does. Null when their profile could not be read.
   */
  async calleeOffline(): Promise<boolean | null> {
    if (this.role !== 'caller' || !this.peer) return null;
    try {
      return !(await this.api.user(this.peer.id)).is_online;
    } catch {
      return null;
    }
  }

  /**
   * The next call ringing for us, or null after `timeoutMs`. A call that started ringing
   * before the socket opened counts too (it is in /api/calls/active/).
   */
  async nextIncoming(timeoutMs?: number): Promise<IncomingCall | null> {
    this.requireState('idle');
    const arrived = new Promise<IncomingCall | null>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => done(null), timeoutMs);
      const done = (call: IncomingCall | null) => {
        clearTimeout(timer);
        this.off('incoming', done);
        this.off('ended', stop);
        resolve(call);
      };
      const stop = () => done(null);
      this.on('incoming', done);
      this.on('ended', stop);
    });
    const me = this.api.userId;
    const ringing = (await this.api.calls('active')).find((c) => c.status === 'pending' && c.callee.id === me);
    if (ringing) this.emit('incoming', { callId: ringing.id, caller: ringing.caller, callType: ringing.call_type });
    return arrived;
  }

  /** Answers a ringing call: media set up first, so the caller's offer finds us ready. */
  async accept(incoming: IncomingCall): Promise<void> {
    this.requireState('idle');
    this.peer = incoming.caller;
    this.callId = incoming.callId;
    this.role = 'callee';
    await this.createMedia();
    this.setState('connecting');
    try {
      this.call = await this.api.request<Call>('POST', `/api/calls/${incoming.callId}/accept/`);
    } catch (err) {
      await this.finish('failed', { detail: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    this.armConnectTimeout();
  }

  /** Declines a ringing call. */
  async reject(incoming: IncomingCall): Promise<Call> {
    this.requireState('idle');
    this.peer = incoming.caller;
    this.callId = incoming.callId;
    this.role = 'callee';
    this.call = await this.api.request<Call>('POST', `/api/calls/${incoming.callId}/reject/`);
    await this.finish('rejected');
    return this.call;
  }

  /** Hangs up (a call still ringing becomes missed on the server) and waits until all is released. */
  async hangUp(): Promise<CallEnd> {
    if (this.state === 'idle') await this.finish('hangup');
    else void this.finish('hangup', { postEnd: true });
    return this.ended;
  }

  /** Releases everything without a call (e.g. `answer` giving up waiting). */
  async close(): Promise<void> {
    if (this.state === 'ended') return;
    await this.hangUp();
  }

  private requireState(state: CallState): void {
    if (this.state !== state) throw new Error(`the call is ${this.state}, not ${state}`);
  }

  private setState(state: CallState): void {
    if (this.state === state || this.state === 'ended') return;
    this.state = state;
    this.emit('state', state);
  }

  private async onFrame(frame: CallServerFrame): Promise<void> {
    if (frame.type === 'error') {
      this.emit('warning', `signaling: ${frame.message}`);
      return;
    }
    if (frame.type === 'incoming_call') {
      if (this.state === 'idle') this.emit('incoming', { callId: frame.call_id, caller: frame.caller, callType: frame.call_type });
      return;
    }
    if (frame.call_id !== this.callId || this.state === 'ended') return;
    try {
      switch (frame.type) {
        case 'call_accepted':
          if (this.state === 'ringing') await this.startAsCaller();
          break;
        case 'call_rejected':
          await this.finish('rejected');
          break;
        case 'call_ended':
          // The record tells a hang-up of a ringing call or a ring timeout ('missed') from a hang-up.
          await this.finish('remote-hangup');
          break;
        case 'offer':
          await this.onOffer(frame.sdp);
          break;
        case 'answer':
          await this.media?.answered(frame.sdp);
          break;
        case 'ice_candidate':
          await this.media?.candidate(frame);
          break;
      }
    } catch (err) {
      // A description or candidate the engine refuses: the call cannot be set up.
      await this.finish('failed', { postEnd: true, detail: err instanceof Error ? err.message : String(err) });
    }
  }

  private async startAsCaller(): Promise<void> {
    this.setState('connecting');
    const media = await this.createMedia();
    this.signal({ type: 'offer', sdp: await media.offer() });
    this.armConnectTimeout();
  }

  private async onOffer(sdp: string): Promise<void> {
    if (this.media) this.signal({ type: 'answer', sdp: await this.media.answer(sdp) });
  }

  private signal(signal: { type: 'offer' | 'answer'; sdp: string } | ({ type: 'ice_candidate' } & IceCandidate)): void {
    if (this.callId !== null) this.socket?.send({ ...signal, call_id: this.callId });
  }

  /** The peer connection with our audio; the call is live while connected. */
  private async createMedia(): Promise<PeerMedia> {
    const media = await PeerMedia.create({
      iceServers: this.iceServers,
      source: this.options.source,
      sink: this.options.sink,
      live: () => this.state === 'connected',
      candidate: (c) => this.signal({ type: 'ice_candidate', ...c }),
      connected: () => this.onConnected(),
      failed: () => void this.finish(this.connectedAt === null ? 'failed' : 'lost', { postEnd: true, detail: 'the media connection failed' }),
      warning: (message) => this.emit('warning', message),
    });
    this.media = media;
    return media;
  }

  private onConnected(): void {
    if (this.state !== 'connecting') return;
    this.connectedAt = performance.now();
    this.setState('connected');
    // A connected call that receives no packets for mediaTimeoutMs is over.
    const limit = this.options.mediaTimeoutMs ?? MEDIA_TIMEOUT_MS;
    this.media?.watch(limit, () => void this.finish('lost', { postEnd: true, detail: `no audio from ${this.peer?.username ?? 'the other side'} for ${Math.round(limit / 1000)} s` }));
  }

  private armConnectTimeout(): void {
    const limit = this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.timers.push(
      setTimeout(() => {
        if (this.state === 'connecting') void this.finish('failed', { postEnd: true, detail: `no media connection within ${Math.round(limit / 1000)} s` });
      }, limit),
    );
  }

  /**
   * Ends the call once, whatever asked first: ends the record on the server when we are the
   * ones stopping it, releases media and audio, reads the final record, closes the socket.
   */
  private async finish(reason: EndReason, { postEnd = false, detail }: { postEnd?: boolean; detail?: string } = {}): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    const talkSeconds = this.talkSeconds;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.setState('ended');
    this.releaseMedia();
    const callId = this.callId;
    let call: Call | null = null;
    if (callId !== null) {
      if (postEnd) call = await this.endOnServer(callId);
      call ??= await this.api.request<Call>('GET', `/api/calls/${callId}/`).catch(() => null);
    }
    if (call) this.call = call;
    // The record knows better: a call_ended for a call nobody picked up is a missed call.
    if (reason === 'remote-hangup' && call?.status === 'missed') reason = 'missed';
    this.socket?.close();
    this.socket = null;
    const end: CallEnd = { reason, call, talkSeconds, detail };
    this.emit('ended', end);
    this.resolveEnded(end);
  }

  /** POST end; a call the other side already ended is fine (400: already over). */
  private async endOnServer(callId: number): Promise<Call | null> {
    try {
      return await this.api.request<Call>('POST', `/api/calls/${callId}/end/`);
    } catch (err) {
      if (!(err instanceof ApiError)) this.emit('warning', `could not end the call on the server: ${(err as Error).message}`);
      return null;
    }
  }

  private releaseMedia(): void {
    this.media?.close();
    this.media = null;
    this.options.source.close();
    this.options.sink.close();
  }
}
