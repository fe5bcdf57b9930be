/**
 * The JSON frames the raw WebSocket endpoints speak (README, Realtime) and the presenters that
 * turn domain event payloads into them (the socket.io channel's events: presenters/events.ts).
 * Frames of logged events get their `seq` from the transport, per recipient.
 */
import type { CallPayload, CallSignal, DirectMessagePayload, DomainEvents, GroupMessagePayload } from '../events/types.js';
import type { GroupNoticeFrame } from '../schemas/protocol.js';
import type { ChannelEvent } from '../presenters/events.js';

export interface DirectMessageFrame {
  type: 'message';
  message_id: number;
  sender_id: number;
  sender_username: string;
  receiver_id: number;
  content: string;
  created_at: string;
}

export interface GroupMessageFrame {
  type: 'message';
  message_id: number;
  sender_id: number;
  sender_username: string;
  group_id: number;
  content: string;
  created_at: string;
}

export type MembershipFrame = Omit<GroupNoticeFrame, 'seq'>;

export interface PresenceFrame {
  type: 'presence';
  user_id: number;
  username: string;
  is_online: boolean;
  last_seen: string | null;
}

export interface IncomingCallFrame {
  type: 'incoming_call';
  call_id: number;
  caller: { id: number; username: string; full_name: string };
  call_type: CallPayload['call_type'];
}

export interface CallStateFrame {
  type: 'call_accepted' | 'call_rejected' | 'call_ended';
  call_id: number;
  user_id: number;
}

export type SignalFrame = { call_id: number; from_user: number } & CallSignal;

export interface PongFrame {
  type: 'pong';
}

export interface ErrorFrame {
  type: 'error';
  message: string;
}

/** Sent instead of a replay when more was missed than can be replayed. */
export interface ResyncFrame {
  type: 'resync';
  latest_seq: number;
}

export type Frame =
  | DirectMessageFrame
  | GroupMessageFrame
  | MembershipFrame
  | PresenceFrame
  | IncomingCallFrame
  | CallStateFrame
  | SignalFrame
  | PongFrame
  | ErrorFrame
  | ResyncFrame;

/** Anything a connection is sent: a raw ws frame or a socket.io event. */
export type Outbound = Frame | ChannelEvent;

export function directMessageFrame(m: DirectMessagePayload): DirectMessageFrame {
  return {
    type: 'message',
    message_id: m.id,
    sender_id: m.sender,
    sender_username: m.sender_username,
    receiver_id: m.receiver,
    content: m.content,
    created_at: m.created_at,
  };
}

export function groupMessageFrame(m: GroupMessagePayload): GroupMessageFrame {
  return {
    type: 'message',
    message_id: m.id,
    sender_id: m.sender,
    sender_username: m.sender_username,
    group_id: m.group,
    content: m.content,
    created_at: m.created_at,
  };
}

export function membershipFrame(type: MembershipFrame['type'], e: { userId: number; username: string }): MembershipFrame {
  return { type, user_id: e.userId, username: e.username };
}

export function presenceFrame(e: DomainEvents['presence.changed']): PresenceFrame {
  return { type: 'presence', user_id: e.userId, username: e.username, is_online: e.isOnline, last_seen: e.lastSeen };
}

export function incomingCallFrame(call: CallPayload): IncomingCallFrame {
  const { id, username, full_name } = call.caller;
  return { type: 'incoming_call', call_id: call.id, caller: { id, username, full_name }, call_type: call.call_type };
}

export function callStateFrame(type: CallStateFrame['type'], callId: number, userId: number): CallStateFrame {
  return { type, call_id: callId, user_id: userId };
}

export function signalFrame(e: DomainEvents['call.signal']): SignalFrame {
  const { type, ...rest } = e.signal;
  return { type, call_id: e.callId, from_user: e.fromUserId, ...rest } as SignalFrame;
}

export const pongFrame = (): PongFrame => ({ type: 'pong' });

export const errorFrame = (message: string): ErrorFrame => ({ type: 'error', message });

export const resyncFrame = (latestSeq: number): ResyncFrame => ({ type: 'resync', latest_seq: latestSeq });
