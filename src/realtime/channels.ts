/**
 * What each realtime endpoint of the seed does, independent of the transport: who may open
 * it (the checks throw the usual domain errors), which rooms it listens to, and how it
 * answers each client frame. Frames are validated like REST bodies and handled by the
 * same services, so a message sent over a socket obeys exactly the rules of POST /api/messages/.
 */
import { z } from 'zod';
import type { User } from '../models/index.js';
import type { Services } from '../services/index.js';
import type { EventBus } from '../events/bus.js';
import type { CallSignal } from '../events/types.js';
import { AppError, ValidationError } from '../errors.js';
import { id, parse, text } from '../validation.js';
import { MESSAGE_MAX, clientIdField } from '../http/routes/messages.js';
import { rooms } from './hub.js';
import { errorFrame, pongFrame, type ErrorFrame, type Frame } from './frames.js';

export interface ChannelDeps {
  services: Services;
  bus: EventBus;
}

/** Handles one client frame; returns a frame to answer the sender with, if any. */
export type FrameHandler = (frame: Record<string, unknown>) => Promise<Frame | void>;

export interface Channel {
  /** Rooms this connection listens to (besides the user's own room). */
  rooms: string[];
  /** Handlers by frame `type`. */
  handlers: Record<string, FrameHandler>;
}

export interface Endpoint {
  /** The path, with or without its trailing slash; capture groups are integer ids. */
  path: RegExp;
  /** Checks access (NotFound / PermissionDenied) and builds the connection's channel. */
  open(actor: User, params: number[], deps: ChannelDeps): Promise<Channel>;
}

const handle =
  <S extends z.ZodType>(schema: S, run: (input: z.output<S>) => Promise<Frame | void>): FrameHandler =>
  (frame) =>
    run(parse(schema, frame));

const messageFrame = z.object({ content: text(MESSAGE_MAX), client_id: clientIdField });
const sdpFrame = z.object({ call_id: id(), sdp: z.string().min(1) });
const iceFrame = z.object({
  call_id: id(),
  // An empty candidate is WebRTC's end-of-candidates marker.
  candidate: z.string(),
  sdpMid: z.string().nullable().default(null),
  sdpMLineIndex: z.number().int().min(0).nullable().default(null),
});

/** Every endpoint answers the seed's keepalive. */
const ping: FrameHandler = async () => pongFrame();

const CALL_UNAVAILABLE = 'Call not found or unauthorized';

/** Passes WebRTC signaling to the other participant of a ringing or active call, and to no one else. */
async function relay(actor: User, { services, bus }: ChannelDeps, callId: number, signal: CallSignal): Promise<Frame | void> {
  const call = await services.calls.participants(callId);
  const live = call !== null && (call.status === 'pending' || call.status === 'active');
  const other = !live ? undefined : actor.id === call.callerId ? call.calleeId : actor.id === call.calleeId ? call.callerId : undefined;
  if (other === undefined) return errorFrame(CALL_UNAVAILABLE);
  await bus.publish('call.signal', { callId, fromUserId: actor.id, toUserId: other, signal });
}

// Ids are capped at 9 digits: anything longer cannot exist and would overflow an INTEGER column.
export const endpoints: Endpoint[] = [
  {
    path: /^\/ws\/messages\/(\d{1,9})\/?$/,
    async open(actor, [peerId], { services }) {
      const peer = await services.users.get(peerId);
      return {
        rooms: [rooms.dm(actor.id, peer.id)],
        handlers: {
          ping,
          // Stored first; the 'dm.created' event then delivers it to both sides' sockets.
          message: handle(messageFrame, async ({ content, client_id }) => {
            await services.messages.send(actor, { receiverId: peer.id, content, clientId: client_id });
          }),
        },
      };
    },
  },
  {
    path: /^\/ws\/group\/(\d{1,9})\/?$/,
    async open(actor, [groupId], { services }) {
      await services.groups.requireMember(actor, groupId);
      return {
        rooms: [rooms.group(groupId)],
        handlers: {
          ping,
          message: handle(messageFrame, async ({ content, client_id }) => {
            await services.groupMessages.send(actor, { groupId, content, clientId: client_id });
          }),
        },
      };
    },
  },
  {
    path: /^\/ws\/status\/?$/,
    async open(actor) {
      return { rooms: [rooms.status(actor.id)], handlers: { ping } };
    },
  },
  {
    path: /^\/ws\/calls\/?$/,
    async open(actor, _params, deps) {
      const sdp = (type: 'offer' | 'answer') => handle(sdpFrame, ({ call_id, sdp }) => relay(actor, deps, call_id, { type, sdp }));
      return {
        rooms: [rooms.calls(actor.id)],
        handlers: {
          ping,
          offer: sdp('offer'),
          answer: sdp('answer'),
          ice_candidate: handle(iceFrame, ({ call_id, candidate, sdpMid, sdpMLineIndex }) =>
            relay(actor, deps, call_id, { type: 'ice_candidate', candidate, sdpMid, sdpMLineIndex }),
          ),
        },
      };
    },
  },
];

/** Finds the endpoint for a path and its integer parameters. */
export function matchEndpoint(pathname: string): { endpoint: Endpoint; params: number[] } | undefined {
  for (const endpoint of endpoints) {
    const match = endpoint.path.exec(pathname);
    if (match) return { endpoint, params: match.slice(1).map(Number) };
  }
  return undefined;
}

/** The error frame for a refused client frame; undefined for unexpected errors (not the client's fault). */
export function refusalFrame(err: unknown): ErrorFrame | undefined {
  if (err instanceof ValidationError) {
    return errorFrame(Object.entries(err.fields).map(([field, messages]) => (field === 'non_field_errors' ? messages.join(' ') : `${field}: ${messages.join(' ')}`)).join(' '));
  }
  if (err instanceof AppError) return errorFrame(err.message);
  return undefined;
}
