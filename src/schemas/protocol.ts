/**
 * The socket.io channel's protocol (path /socket.io, one authenticated connection per client):
 * every event name and payload, in one place shared by the server and the terminal client.
 * Types and constants only, nothing from the server, so `cli/` can import it.
 *
 * Connect with `auth: { token, since? }`. A refused connection fails with a connect_error whose
 * message is the REST API's `detail`. Events the server logged carry `seq`, the recipient's own
 * sequence number; reconnecting with `since` set to the last seq seen first replays what was
 * missed (in order, without duplicates), or sends 'resync' when too much was. Events without
 * `seq` are live only: after a reconnect, re-fetch what they announce over REST.
 */
import type { CallPayload, DirectMessagePayload, GroupMessagePayload } from '../events/types.js';

export type { CallPayload, DirectMessagePayload, GroupMessagePayload };

export const SOCKET_IO_PATH = '/socket.io';

/** More missed events than this are not replayed: the client gets 'resync' and re-fetches over REST. */
export const REPLAY_LIMIT = 1000;

export interface Sequenced {
  /** The recipient's sequence number of this event: pass the last one seen as `since` to resume. */
  seq: number;
}

export interface MembershipEvent extends Sequenced {
  group_id: number;
  user_id: number;
  username: string;
}

export interface CallEvent extends Sequenced {
  call: CallPayload;
  /** Who acted; null when nobody did (a ring that timed out). */
  by_user_id: number | null;
}

export type SignalPayload =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'ice_candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };

export type SignalEvent = { call_id: number; from_user: number } & SignalPayload;

export interface PresenceEvent {
  user_id: number;
  username: string;
  is_online: boolean;
  last_seen: string | null;
}

export interface TypingEvent {
  from_user: number;
  username: string;
  /** Set when typing to one user (then it is you), else null. */
  to_user: number | null;
  /** Set when typing in a group, else null. */
  group_id: number | null;
  is_typing: boolean;
}

/** A new post, for its author and their followers: GET /api/posts/{post_id}/ for the post itself. */
export interface PostCreatedEvent {
  post_id: number;
  author_id: number;
  author_username: string;
}

export interface ServerToClientEvents {
  /** A direct message you sent or received (from any device or REST). */
  'dm:new': (message: DirectMessagePayload & Sequenced) => void;
  /** A direct message you sent or received was marked read by its receiver. */
  'dm:read': (message: DirectMessagePayload & Sequenced) => void;
  'group:message': (message: GroupMessagePayload & Sequenced) => void;
  'group:joined': (event: MembershipEvent) => void;
  /** Also sent to the member who left; after it, that group's events stop. */
  'group:left': (event: MembershipEvent) => void;
  'group:deleted': (event: { group_id: number } & Sequenced) => void;
  'call:started': (event: CallEvent) => void;
  'call:accepted': (event: CallEvent) => void;
  'call:rejected': (event: CallEvent) => void;
  'call:ended': (event: CallEvent) => void;
  'call:missed': (event: CallEvent) => void;
  /** WebRTC signaling from the other participant of a call. */
  'call:signal': (event: SignalEvent) => void;
  /** A person you follow or share a group with came online or went offline. */
  presence: (event: PresenceEvent) => void;
  typing: (event: TypingEvent) => void;
  /** Someone you follow (or you, on any device) posted; not replayed, so re-read the feed after a reconnect. */
  'post:created': (event: PostCreatedEvent) => void;
  /** Too much was missed to replay: re-fetch over REST and resume from latest_seq. */
  resync: (event: { latest_seq: number }) => void;
  /** Sent just before the server disconnects you (4401: session revoked or access token expired; refresh, then reconnect with `since`). */
  closing: (event: { code: number; reason: string }) => void;
}

/** Answer to every client request: `ok` and the result, or `ok: false` with the API's error text and HTTP status. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: string; status: number };

export interface DmSendRequest {
  to: number;
  content: string;
  /** Makes a retried send idempotent: the same client_id returns the first message. */
  client_id?: string;
}

export interface GroupSendRequest {
  group_id: number;
  content: string;
  client_id?: string;
}

export type TypingRequest = ({ to_user: number; group_id?: undefined } | { group_id: number; to_user?: undefined }) & { is_typing: boolean };

export type SignalRequest = { call_id: number } & (
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'ice_candidate'; candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null }
);

export interface ClientToServerEvents {
  'dm:send': (request: DmSendRequest, ack: (result: Ack<{ message: DirectMessagePayload }>) => void) => void;
  'group:send': (request: GroupSendRequest, ack: (result: Ack<{ message: GroupMessagePayload }>) => void) => void;
  /** Marks a message you received as read. */
  'dm:read': (request: { message_id: number }, ack: (result: Ack<{ message: DirectMessagePayload }>) => void) => void;
  typing: (request: TypingRequest, ack?: (result: Ack) => void) => void;
  /** Only between the two participants of a ringing or active call. */
  'call:signal': (request: SignalRequest, ack?: (result: Ack) => void) => void;
}

export interface SocketAuth {
  /** An access token. */
  token: string;
  /** The last `seq` received: replay what came after it. */
  since?: number;
}

export type ServerEventName = keyof ServerToClientEvents;

/**
 * The notices of the raw WebSocket `/ws/group/{id}/` (README, Realtime; beside its `message`
 * frames), all `{type, user_id, username}`:
 * - `user-joined` / `user-left`: presence in the live room. A member's first connection to the
 *   room (over all their devices and all server processes) opened / their last one closed. Sent to
 *   the members connected at that moment, never about yourself. Live only: no `seq`, not replayed.
 * - `member-joined` / `member-left`: someone joined or left the group itself (REST join/leave).
 *   Logged: they carry `seq` and are replayed after `?since=`. The socket.io channel has these as
 *   'group:joined' / 'group:left'.
 */
export interface GroupNoticeFrame {
  type: 'user-joined' | 'user-left' | 'member-joined' | 'member-left';
  user_id: number;
  username: string;
  /** member-joined / member-left only. */
  seq?: number;
}
