/**
 * The domain event vocabulary. Services publish these after their transaction commits;
 * the realtime hub subscribes and turns them into frames. Payloads are plain JSON
 * (ids and presented objects), so they cross process boundaries over Redis unchanged.
 */
export interface NestedUserPayload {
  id: number;
  username: string;
  full_name: string;
}

export interface DirectMessagePayload {
  id: number;
  sender: number;
  sender_username: string;
  receiver: number;
  receiver_username: string;
  content: string;
  is_read: boolean;
  read_at: string | null;
  created_at: string;
}

export interface GroupMessagePayload {
  id: number;
  group: number;
  sender: number;
  sender_username: string;
  content: string;
  created_at: string;
}

export interface CallPayload {
  id: number;
  caller: NestedUserPayload;
  callee: NestedUserPayload;
  call_type: 'audio' | 'video';
  status: 'pending' | 'active' | 'ended' | 'rejected' | 'missed';
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  duration: number | null;
}

/** A WebRTC offer/answer or ICE candidate, as /ws/calls/ frames carry it. */
export type CallSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'ice_candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };

/**
 * Events written to the per-user event log (src/events/outbox.ts) in the transaction of the
 * change they announce, so a client that was away can replay them. Published with `seqs`:
 * each recipient's sequence number for this event (keys are user ids).
 */
export interface LoggedEvents {
  'dm.created': { message: DirectMessagePayload };
  'dm.read': { message: DirectMessagePayload };
  'group_message.created': { message: GroupMessagePayload };
  'group.member_joined': { groupId: number; userId: number; username: string };
  'group.member_left': { groupId: number; userId: number; username: string };
  'group.deleted': { groupId: number };
  'call.started': { call: CallPayload };
  'call.accepted': { call: CallPayload; byUserId: number };
  'call.rejected': { call: CallPayload; byUserId: number };
  'call.ended': { call: CallPayload; byUserId: number };
  /** byUserId: who hung up the ringing call; absent when the ring timed out. */
  'call.missed': { call: CallPayload; byUserId?: number };
}

export type LoggedEventName = keyof LoggedEvents;

export const LOGGED_EVENT_NAMES = [
  'dm.created',
  'dm.read',
  'group_message.created',
  'group.member_joined',
  'group.member_left',
  'group.deleted',
  'call.started',
  'call.accepted',
  'call.rejected',
  'call.ended',
  'call.missed',
] as const satisfies readonly LoggedEventName[];

/** Recipient user id (as a JSON object key) → that recipient's sequence number. */
export type Seqs = Record<string, number>;

/** Events that only matter live: never stored, no sequence number. */
export interface EphemeralEvents {
  /** WebRTC signaling relayed between the two participants of a call (never stored). */
  'call.signal': { callId: number; fromUserId: number; toUserId: number; signal: CallSignal };
  /** Someone typing to a user or in a group; `recipients` were resolved by the publisher. */
  typing: { fromUserId: number; username: string; toUserId: number | null; groupId: number | null; isTyping: boolean; recipients: number[] };
  'presence.changed': { userId: number; username: string; isOnline: boolean; lastSeen: string | null };
  /** A member's first connection to a group's live room opened (present) or their last one closed. */
  'group.presence': { groupId: number; userId: number; username: string; present: boolean };
  'post.created': { postId: number; authorId: number };
  /** Sessions of the user that ended (logout, refresh reuse: one; ban, password change, deletion: all). */
  'user.sessions_revoked': { userId: number; sessionIds: string[] };
  /** A user's profile or flags changed: cached copies of them are stale. */
  'user.updated': { userId: number };
}

export type DomainEvents = { [K in LoggedEventName]: LoggedEvents[K] & { seqs: Seqs } } & EphemeralEvents;

export type DomainEventName = keyof DomainEvents;
