/**
 * node-webrtc (@roamhq/wrtc) is an optional dependency: a 26 MB native module that only calls
 * use. It is loaded on the first call, never at startup, and an install without it still runs
 * the server and every other command; a call then stops with one clear message.
 */

/** node-webrtc's audio frame (16-bit PCM). */
export interface RtcAudioData {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample?: number;
  channelCount?: number;
  numberOfFrames?: number;
}

/** Audio we feed into a track. */
export interface RtcAudioSource {
  createTrack(): MediaStreamTrack;
  onData(data: RtcAudioData): void;
}

/** Audio received on a track. */
export interface RtcAudioSink {
  stop(): void;
  ondata: ((data: RtcAudioData) => void) | null;
}

/**
 * The part of node-webrtc that calls use, declared here rather than imported from its types so
 * that building jvai does not need the optional package (test/webrtc-optional.test.ts checks
 * that the package still fits this shape).
 */
export interface Wrtc {
  RTCPeerConnection: typeof RTCPeerConnection;
  MediaStream: typeof MediaStream;
  nonstandard: {
    RTCAudioSource: new () => RtcAudioSource;
    RTCAudioSink: new (track: MediaStreamTrack) => RtcAudioSink;
  };
}

export const WRTC_PACKAGE = '@roamhq/wrtc';

/** node-webrtc could not be loaded (not installed, or no build for this platform). */
export class WebRtcUnavailable extends Error {
  constructor(cause: unknown) {
    super(`calls need the optional package ${WRTC_PACKAGE} (npm install ${WRTC_PACKAGE})`, { cause });
  }
}

const loaded = new Map<string, Promise<Wrtc>>();

/**
 * The node-webrtc module, loaded once. The specifier is a parameter so a test can take the
 * missing-package path through this very code.
 */
export function loadWebRtc(specifier: string = WRTC_PACKAGE): Promise<Wrtc> {
  let module = loaded.get(specifier);
  if (!module) {
    module = import(specifier).then(
      (m) => ((m as { default?: Wrtc }).default ?? m) as Wrtc,
      (err: unknown) => {
        // Not loaded: a later attempt (after an install) may succeed, and webRtcLoaded stays false.
        loaded.delete(specifier);
        throw new WebRtcUnavailable(err);
      },
    );
    loaded.set(specifier, module);
  }
  return module;
}

/**
 * Whether node-webrtc was loaded. A process that loaded it must end with process.exit():
 * left to exit naturally, Node's teardown of its native objects crashes (SIGSEGV).
 */
export const webRtcLoaded = (): boolean => loaded.size > 0;
