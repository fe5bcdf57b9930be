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

/** A WebRTC offer/answer or ICE candidate, as the seed's /ws/calls/ frames carry it. */
export type CallSignal =
  | { type: 'offer' | 'answer'; sdp: string }
  | { type: 'ice_candidate'; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };

export interface DomainEvents {
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
  /** WebRTC signaling relayed between the two participants of a call (never stored). */
  'call.signal': { callId: number; fromUserId: number; toUserId: number; signal: CallSignal };
  'presence.changed': { userId: number; username: string; isOnline: boolean; lastSeen: string | null };
  'post.created': { postId: number; authorId: number };
  'user.sessions_revoked': { userId: number };
}

export type DomainEventName = keyof DomainEvents;
