/**
 * The media half of a call: one RTCPeerConnection carrying our audio track, the other side's
 * audio played to the sink, remote ICE candidates held until their description is set, and
 * the watch for a peer gone silent. The session (./session.ts) drives it from signaling frames
 * and owns the call's state; this module knows nothing about the call record.
 */
import { performance } from 'node:perf_hooks';
import type { AudioSink, AudioSource } from './audio.js';
import { FRAME_SAMPLES, SAMPLE_RATE, frameToMono48k } from './wav.js';
import { loadWebRtc, type RtcAudioSink, type RtcAudioSource } from './webrtc.js';

const STATS_INTERVAL_MS = 1_000;

export interface IceCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export interface PeerMediaOptions {
  iceServers: RTCIceServer[];
  source: AudioSource;
  sink: AudioSink;
  /** Whether the call is connected: until then silence is sent and what arrives is dropped. */
  live(): boolean;
  /** A local candidate to signal to the other side. */
  candidate(candidate: IceCandidate): void;
  /** The media connection came up. */
  connected(): void;
  /** The media connection failed. */
  failed(): void;
  /** Something went wrong that does not end the call. */
  warning(message: string): void;
}

export class PeerMedia {
  private receiver: RtcAudioSink | null = null;
  private pendingCandidates: IceCandidate[] = [];
  private timers: NodeJS.Timeout[] = [];

  private constructor(
    private readonly pc: RTCPeerConnection,
    private readonly outgoing: { source: RtcAudioSource; track: MediaStreamTrack },
    private readonly options: PeerMediaOptions,
  ) {}

  /** The peer connection with our audio track, feeding received audio to the sink. */
  static async create(options: PeerMediaOptions): Promise<PeerMedia> {
    const wrtc = await loadWebRtc();
    const pc = new wrtc.RTCPeerConnection({ iceServers: options.iceServers });
    const source = new wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    const media = new PeerMedia(pc, { source, track }, options);
    // In a stream, so a browser's ontrack gets event.streams[0] to play.
    pc.addTrack(track, new wrtc.MediaStream([track]));
    pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate) options.candidate({ candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex });
    };
    pc.ontrack = ({ track: remote }) => {
      if (remote.kind !== 'audio' || media.receiver) return;
      const receiver = new wrtc.nonstandard.RTCAudioSink(remote);
      receiver.ondata = (data) => {
        // Until media flows the sink plays out silence; only the call's own audio is kept.
        if (options.live()) options.sink.write(frameToMono48k(data.samples, data.sampleRate, data.channelCount ?? 1));
      };
      media.receiver = receiver;
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'connected') options.connected();
      else if (pc.connectionState === 'failed') options.failed();
    };
    media.startPacer();
    return media;
  }

  /** Our offer's SDP (the caller's side). */
  async offer(): Promise<string> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return offer.sdp ?? '';
  }

  /** Takes the caller's offer; our answer's SDP (the callee's side). */
  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await this.flushCandidates();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return answer.sdp ?? '';
  }

  /** Takes the callee's answer (the caller's side). */
  async answered(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await this.flushCandidates();
  }

  async candidate(c: IceCandidate): Promise<void> {
    // Candidates may overtake the description they belong to: keep them until it is set.
    if (!this.pc.remoteDescription) this.pendingCandidates.push(c);
    else await this.addCandidate(c);
  }

  private async flushCandidates(): Promise<void> {
    const pending = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const c of pending) await this.addCandidate(c);
  }

  private async addCandidate({ candidate, sdpMid, sdpMLineIndex }: IceCandidate): Promise<void> {
    if (!candidate) return; // end-of-candidates: nothing to add
    try {
      await this.pc.addIceCandidate({ candidate, sdpMid, sdpMLineIndex });
    } catch (err) {
      // One unusable candidate (say, an address family we lack) does not sink the call.
      this.options.warning(`ignored an ICE candidate: ${(err as Error).message}`);
    }
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
        const samples = this.options.live() ? this.options.source.read() : new Int16Array(FRAME_SAMPLES);
        this.outgoing.source.onData({ samples, sampleRate: SAMPLE_RATE, channelCount: 1, bitsPerSample: 16, numberOfFrames: FRAME_SAMPLES });
      }
    };
    this.timers.push(setInterval(pump, 10));
  }

  /**
   * A peer that vanishes (killed, unplugged) sends no hang-up, and ICE takes a long while to
   * call it failed: `silent` is called once a live call has received no packets for `limitMs`.
   */
  watch(limitMs: number, silent: () => void): void {
    let lastCount = -1;
    let lastChange = performance.now();
    this.timers.push(
      setInterval(async () => {
        if (!this.options.live()) return;
        let packets = 0;
        (await this.pc.getStats()).forEach((s: { type: string; kind?: string; packetsReceived?: number }) => {
          if (s.type === 'inbound-rtp' && s.kind === 'audio') packets += s.packetsReceived ?? 0;
        });
        const now = performance.now();
        if (packets !== lastCount) {
          lastCount = packets;
          lastChange = now;
        } else if (now - lastChange >= limitMs) silent();
      }, STATS_INTERVAL_MS),
    );
  }

  /** Stops the timers, the tracks and the connection (the audio source and sink are the session's). */
  close(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.receiver?.stop();
    this.receiver = null;
    this.outgoing.track.stop();
    this.pc.close();
  }
}
