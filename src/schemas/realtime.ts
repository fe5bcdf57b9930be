/**
 * What clients send over the realtime transports: the raw ws endpoints' frames and the
 * socket.io channel's requests (protocol.ts has their TypeScript shapes), validated
 * like REST bodies.
 */
import { z } from 'zod';
import { id } from '../validation.js';
import { clientIdField, messageText } from './messages.js';

/** `message` on /ws/messages/{id}/ and /ws/group/{id}/. */
export const messageFrame = z.object({ content: messageText, client_id: clientIdField });

/** `offer` / `answer` on /ws/calls/. */
export const sdpFrame = z.object({ call_id: id(), sdp: z.string().min(1) });

/** `ice_candidate` on /ws/calls/. */
export const iceFrame = z.object({
  call_id: id(),
  // An empty candidate is WebRTC's end-of-candidates marker.
  candidate: z.string(),
  sdpMid: z.string().nullable().default(null),
  sdpMLineIndex: z.number().int().min(0).nullable().default(null),
});

export const dmSendRequest = z.object({ to: id(), content: messageText, client_id: clientIdField });
export const groupSendRequest = z.object({ group_id: id(), content: messageText, client_id: clientIdField });
export const dmReadRequest = z.object({ message_id: id() });
export const typingRequest = z.object({ to_user: id().optional(), group_id: id().optional(), is_typing: z.boolean() });
export const signalRequest = z.discriminatedUnion('type', [
  sdpFrame.extend({ type: z.enum(['offer', 'answer']) }),
  iceFrame.extend({ type: z.literal('ice_candidate') }),
]);
