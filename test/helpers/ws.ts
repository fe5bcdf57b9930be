/**
 * WebSocket clients for tests: `connectWs(url, token)`, then `nextFrame(socket, predicate)`.
 * Every frame a socket receives is buffered from the moment it connects, so a frame that
 * arrives before the test starts waiting for it is not lost.
 */
import WebSocket from 'ws';

export type Frame = Record<string, any>;

interface Tracked {
  frames: Frame[];
  waiters: Set<() => void>;
  closed: Promise<number>;
}

const tracked = new WeakMap<WebSocket, Tracked>();

export interface ConnectOptions {
  /** How the token travels: Authorization header (default), ?token=, or the bearer.<token> subprotocol. */
  via?: 'header' | 'query' | 'protocol';
  /** Extra subprotocols to offer. */
  protocols?: string[];
}

/** `ws://host:port/ws/...` for a test server's http URL and a path. */
export const wsUrl = (serverUrl: string, path: string): string => serverUrl.replace(/^http/, 'ws') + path;

/** Opens a socket and resolves once the handshake completes (refusals too: they close afterwards). */
export function connectWs(url: string, token?: string, opts: ConnectOptions = {}): Promise<WebSocket> {
  const via = opts.via ?? 'header';
  const target = new URL(url);
  if (token && via === 'query') target.searchParams.set('token', token);
  const protocols = [...(token && via === 'protocol' ? [`bearer.${token}`] : []), ...(opts.protocols ?? [])];
  const socket = new WebSocket(target, protocols, token && via === 'header' ? { headers: { Authorization: `Bearer ${token}` } } : {});
  const state: Tracked = {
    frames: [],
    waiters: new Set(),
    closed: new Promise((resolve) => socket.once('close', (code) => resolve(code))),
  };
  tracked.set(socket, state);
  socket.on('message', (data) => {
    state.frames.push(JSON.parse(String(data)));
    for (const wake of [...state.waiters]) wake();
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

function stateOf(socket: WebSocket): Tracked {
  const state = tracked.get(socket);
  if (!state) throw new Error('socket was not opened with connectWs');
  return state;
}

/** The first buffered or future frame matching the predicate (consumed); rejects after timeoutMs. */
export function nextFrame(socket: WebSocket, predicate: (frame: Frame) => boolean = () => true, timeoutMs = 3000): Promise<Frame> {
  const state = stateOf(socket);
  return new Promise((resolve, reject) => {
    const check = () => {
      const index = state.frames.findIndex(predicate);
      if (index === -1) return false;
      const [frame] = state.frames.splice(index, 1);
      state.waiters.delete(check);
      clearTimeout(timer);
      resolve(frame);
      return true;
    };
    const timer = setTimeout(() => {
      state.waiters.delete(check);
      reject(new Error(`no matching frame within ${timeoutMs} ms; buffered: ${JSON.stringify(state.frames)}`));
    }, timeoutMs);
    if (!check()) state.waiters.add(check);
  });
}

/**
 * Waits for a marker frame that is sent after the moment of interest and returns (consuming)
 * every frame that arrived before it: for "must not be delivered" checks, a frame that was
 * going to arrive would be among them, so no fixed wait is needed.
 */
export function framesBefore(socket: WebSocket, marker: (frame: Frame) => boolean, timeoutMs = 3000): Promise<Frame[]> {
  const state = stateOf(socket);
  return new Promise((resolve, reject) => {
    const check = () => {
      const index = state.frames.findIndex(marker);
      if (index === -1) return false;
      state.waiters.delete(check);
      clearTimeout(timer);
      resolve(state.frames.splice(0, index + 1).slice(0, index));
      return true;
    };
    const timer = setTimeout(() => {
      state.waiters.delete(check);
      reject(new Error(`no marker frame within ${timeoutMs} ms; buffered: ${JSON.stringify(state.frames)}`));
    }, timeoutMs);
    if (!check()) state.waiters.add(check);
  });
}

/**
 * Every frame the socket received before the answer to a `ping` sent now. A frame the server
 * had written to this socket before reading the ping comes first (one ordered connection); with
 * the in-process bus, events of a write are written to sockets before the write's response.
 */
export function framesBeforePong(socket: WebSocket, timeoutMs = 3000): Promise<Frame[]> {
  sendJson(socket, { type: 'ping' });
  return framesBefore(socket, (f) => f.type === 'pong', timeoutMs);
}

/** Resolves true if no matching frame arrives within ms (for "must not be delivered" checks). */
export async function noFrame(socket: WebSocket, predicate: (frame: Frame) => boolean = () => true, ms = 300): Promise<boolean> {
  try {
    await nextFrame(socket, predicate, ms);
    return false;
  } catch {
    return true;
  }
}

/** The frames received so far that match (left in the buffer): what already arrived, without waiting. */
export function buffered(socket: WebSocket, predicate: (frame: Frame) => boolean = () => true): Frame[] {
  return stateOf(socket).frames.filter(predicate);
}

/** The close code the socket ends with; rejects if it is still open after timeoutMs (a test fails, never hangs). */
export function closeCode(socket: WebSocket, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
    stateOf(socket).closed.then((code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Sends a JSON frame. */
export function sendJson(socket: WebSocket, frame: unknown): void {
  socket.send(JSON.stringify(frame));
}
