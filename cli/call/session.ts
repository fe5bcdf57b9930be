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
import { FRAME_SAMPLES, SAMPLE_RATE, frameToMono48k } from './wav.js';
import { loadWebRtc, type RtcAudioSink, type RtcAudioSource } from './webrtc.js';

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
const STATS_INTERVAL_MS = 1_000;

interface RemoteCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

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
  private pc: RTCPeerConnection | null = null;
  private outgoing: { source: RtcAudioSource; track: MediaStreamTrack } | null = null;
  private receiver: RtcAudioSink | null = null;
  private pendingCandidates: RemoteCandidate[] = [];
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
    await this.createPeer();
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
          await this.pc?.setRemoteDescription({ type: 'answer', sdp: frame.sdp });
          await this.flushCandidates();
          break;
        case 'ice_candidate':
          await this.onCandidate(frame);
          break;
      }
    } catch (err) {
      // A description or candidate the engine refuses: the call cannot be set up.
      await this.finish('failed', { postEnd: true, detail: err instanceof Error ? err.message : String(err) });
    }
  }

  private async startAsCaller(): Promise<void> {
    this.setState('connecting');
    const pc = await this.createPeer();
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    this.signal({ type: 'offer', sdp: offer.sdp ?? '' });
    this.armConnectTimeout();
  }

  private async onOffer(sdp: string): Promise<void> {
    const pc = this.pc;
    if (!pc) return;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await this.flushCandidates();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.signal({ type: 'answer', sdp: answer.sdp ?? '' });
  }

  private async onCandidate(c: RemoteCandidate): Promise<void> {
    // Candidates may overtake the description they belong to: keep them until it is set.
    if (!this.pc?.remoteDescription) this.pendingCandidates.push(c);
    else await this.addCandidate(c);
  }

  private async flushCandidates(): Promise<void> {
    const pending = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of pending) await this.addCandidate(c);
  }

  private async addCandidate({ candidate, sdpMid, sdpMLineIndex }: RemoteCandidate): Promise<void> {
    if (!candidate) return; // end-of-candidates: nothing to add
    try {
      await this.pc?.addIceCandidate({ candidate, sdpMid, sdpMLineIndex });
    } catch (err) {
      // One unusable candidate (say, an address family we lack) does not sink the call.
      this.emit('warning', `ignored an ICE candidate: ${(err as Error).message}`);
    }
  }

  private signal(signal: { type: 'offer' | 'answer'; sdp: string } | { type: 'ice_candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null }): void {
    if (this.callId !== null) this.socket?.send({ ...signal, call_id: this.callId });
  }

  /** The peer connection with our audio track, feeding received audio to the sink. */
  private async createPeer(): Promise<RTCPeerConnection> {
    const wrtc = await loadWebRtc();
    const pc = new wrtc.RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    const source = new wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    this.outgoing = { source, track };
    // In a stream, so a browser's ontrack gets event.streams[0] to play.
    pc.addTrack(track, new wrtc.MediaStream([track]));
    pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate) this.signal({ type: 'ice_candidate', candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex });
    };
    pc.ontrack = ({ track: remote }) => {
      if (remote.kind !== 'audio' || this.receiver) return;
      const receiver = new wrtc.nonstandard.RTCAudioSink(remote);
      receiver.ondata = (data) => {
        // Until media flows the sink plays out silence; only the call's own audio is kept.
        if (this.state === 'connected') this.options.sink.write(frameToMono48k(data.samples, data.sampleRate, data.channelCount ?? 1));
      };
      this.receiver = receiver;
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') this.onConnected();
      else if (pc.connectionState === 'failed') {
        void this.finish(this.connectedAt === null ? 'failed' : 'lost', { postEnd: true, detail: 'the media connection failed' });
      }
    };
    this.startPacer();
    return pc;
  }

  private onConnected(): void {
    if (this.state !== 'connecting') return;
    this.connectedAt = performance.now();
    this.setState('connected');
    this.watchMedia();
  }

  /**
   * Feeds our audio to WebRTC one 10 ms frame at a time, paced by the clock rather than by
   * timer ticks (which drift). Before the call connects it sends silence, so a WAV starts
   * playing when the other side can hear it.
   */
  private startPacer(): void {
    const start = performance.now();
    let sent = 0;
    const pump = () => {
      const due = Math.floor((performance.now() - start) / 10);
      // After a stall (a busy event loop) skip ahead rather than send a burst of stale audio.
      if (due - sent > 20) sent = due - 20;
      for (; sent < due; sent++) {
        const samples = this.state === 'connected' ? this.options.source.read() : new Int16Array(FRAME_SAMPLES);
        this.outgoing?.source.onData({ samples, sampleRate: SAMPLE_RATE, channelCount: 1, bitsPerSample: 16, numberOfFrames: FRAME_SAMPLES });
      }
    };
    this.timers.push(setInterval(pump, 10));
  }

  /**
   * A peer that vanishes (killed, unplugged) sends no hang-up, and ICE takes a long while to
   * call it failed; a connected call that receives no packets for mediaTimeoutMs is over.
   */
  private watchMedia(): void {
    const limit = this.options.mediaTimeoutMs ?? MEDIA_TIMEOUT_MS;
    let lastCount = -1;
    let lastChange = performance.now();
    this.timers.push(
      setInterval(async () => {
        const pc = this.pc;
        if (!pc || this.state !== 'connected') return;
        let packets = 0;
        (await pc.getStats()).forEach((s: { type: string; kind?: string; packetsReceived?: number }) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio') packets += s.packetsReceived ?? 0;
        });
        const now = performance.now();
        if (packets !== lastCount) {
          lastCount = packets;
          lastChange = now;
        } else if (now - lastChange >= limit) {
          void this.finish('lost', { postEnd: true, detail: `no audio from ${this.peer?.username ?? 'the other side'} for ${Math.round(limit / 1000)} s` });
        }
      }, STATS_INTERVAL_MS),
    );
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
    this.receiver?.stop();
    this.receiver = null;
    this.outgoing?.track.stop();
    this.outgoing = null;
    this.pc?.close();
    this.pc = null;
    this.options.source.close();
    this.options.sink.close();
  }
}
