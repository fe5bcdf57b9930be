/**
 * The call signaling socket, /ws/calls/?token=<access> (README, Realtime): call state frames from the
 * server, and offers, answers and ICE candidates relayed between the two participants.
 * Outgoing frames are paced below the server's per-socket rate limit, so a burst of ICE
 * candidates is delayed a little instead of being refused.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { CallStateFrame, ErrorFrame, IncomingCallFrame, SignalFrame } from '../../src/realtime/frames.js';
import type { CallSignal } from '../../src/events/types.js';

export type CallServerFrame = IncomingCallFrame | CallStateFrame | SignalFrame | ErrorFrame;

/** What we send: a signal about one call. */
export type OutgoingSignal = CallSignal & { call_id: number };

interface SocketEvents {
  frame: [CallServerFrame];
  /** The socket closed without close() being called. */
  lost: [code: number, reason: string];
}

// The server allows bursts of 20 frames and 10 a second; stay under both.
const BURST = 10;
const PER_SECOND = 8;
const OPEN_TIMEOUT_MS = 10_000;

/** ws://host/ws/calls/?token=… for an http(s) server URL. */
export function callsSocketUrl(server: string, access: string): string {
  const url = new URL(server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws/calls/`;
  url.search = new URLSearchParams({ token: access }).toString();
  return url.toString();
}

export class CallSocket extends EventEmitter<SocketEvents> {
  private readonly queue: string[] = [];
  private tokens = BURST;
  private refill: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(private readonly ws: WebSocket) {
    super();
    ws.on('message', (data) => {
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      if (frame && typeof frame === 'object' && typeof (frame as { type?: unknown }).type === 'string') this.emit('frame', frame as CallServerFrame);
    });
    ws.on('close', (code, reason) => {
      this.stopPacing();
      if (!this.closed) {
        this.closed = true;
        this.emit('lost', code, reason.toString());
      }
    });
    ws.on('error', () => {}); // followed by 'close'
  }

  /**
   * Opens the socket. A refused token still completes the handshake and is then closed with
   * 4401 (reported as 'lost'): callers make an authenticated request first, which refreshes it.
   */
  static connect(server: string, access: string): Promise<CallSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(callsSocketUrl(server, access), { handshakeTimeout: OPEN_TIMEOUT_MS });
      const fail = (why: string) => {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(new Error(`cannot open the call signaling socket: ${why}`));
      };
      ws.once('error', (err) => fail(err.message));
      ws.once('close', (code, reason) => fail(`closed with ${code} ${reason.toString()}`.trim()));
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve(new CallSocket(ws));
      });
    });
  }

  send(frame: OutgoingSignal): void {
    if (this.closed) return;
    this.queue.push(JSON.stringify(frame));
    this.drain();
  }

  private drain(): void {
    while (this.queue.length && this.tokens > 0 && this.ws.readyState === WebSocket.OPEN) {
      this.tokens--;
      this.ws.send(this.queue.shift()!);
    }
    if (this.tokens < BURST && !this.refill) {
      this.refill = setInterval(() => {
        this.tokens = Math.min(BURST, this.tokens + 1);
        this.drain();
        if (this.tokens === BURST && !this.queue.length) this.stopPacing();
      }, 1000 / PER_SECOND);
    }
  }

  private stopPacing(): void {
    if (this.refill) clearInterval(this.refill);
    this.refill = null;
  }

  /** Closes the socket; frames still queued are dropped (the call they were about is over). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopPacing();
    this.queue.length = 0;
    this.ws.close(1000);
  }
}
