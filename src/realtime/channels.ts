/**
 * What each realtime endpoint does, independent of the transport: who may open a raw ws
 * endpoint (the checks throw the usual domain errors), which rooms it listens to, how it
 * answers each client frame, and the socket.io channel's acknowledged requests. Input is
 * validated like REST bodies and handled by the same services, so a message sent over a
 * socket obeys exactly the rules of POST /api/messages/.
 */
import type { z } from 'zod';
import type { User } from '../models/index.js';
import type { Services } from '../services/index.js';
import type { EventBus } from '../events/bus.js';
import type { SendLimiter } from '../services/sendLimit.js';
import type { CallSignal } from '../events/types.js';
import { AppError, flattenFieldErrors, NotFound, ValidationError } from '../errors.js';
import { parse } from '../validation.js';
import { dmReadRequest, dmSendRequest, groupSendRequest, iceFrame, messageFrame, sdpFrame, signalRequest, typingRequest } from '../schemas/realtime.js';
import { presentDirectMessage, presentGroupMessage } from '../presenters/message.js';
import { rooms } from './hub.js';
import { pongFrame, type Frame } from './frames.js';
import type { ClientToServerEvents } from '../schemas/protocol.js';

export interface ChannelDeps {
  services: Services;
  bus: EventBus;
  /** Sends draw on the user's budget shared with REST and their other sockets. */
  sendLimiter: SendLimiter;
}

/** Handles one client frame; returns a frame to answer the sender with, if any. */
export type FrameHandler = (frame: Record<string, unknown>) => Promise<Frame | void>;

export interface Channel {
  /** Rooms this connection listens to (besides its session's room). */
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

/** Every endpoint answers the `ping` keepalive with `pong`. */
const ping: FrameHandler = async () => pongFrame();

const CALL_UNAVAILABLE = 'Call not found or unauthorized';

/** Passes WebRTC signaling to the other participant of a ringing or active call, and to no one else. */
async function relay(actor: User, { services, bus }: ChannelDeps, callId: number, signal: CallSignal): Promise<void> {
  const call = await services.calls.participants(callId);
  const live = call !== null && (call.status === 'pending' || call.status === 'active');
  const other = !live ? undefined : actor.id === call.callerId ? call.calleeId : actor.id === call.calleeId ? call.callerId : undefined;
  if (other === undefined) throw new NotFound(CALL_UNAVAILABLE);
  await bus.publish('call.signal', { callId, fromUserId: actor.id, toUserId: other, signal });
}

/** The id an endpoint's path captured (its regex guarantees one; none is a bug in the endpoint). */
function pathId([id]: number[]): number {
  if (id === undefined) throw new Error('this endpoint path captures no id');
  return id;
}

// Ids are capped at 9 digits: anything longer cannot exist and would overflow an INTEGER column.
export const endpoints: Endpoint[] = [
  {
    path: /^\/ws\/messages\/(\d{1,9})\/?$/,
    async open(actor, params, { services, sendLimiter }) {
      const peer = await services.users.get(pathId(params));
      return {
        rooms: [rooms.dm(actor.id, peer.id)],
        handlers: {
          ping,
          // Stored first; the 'dm.created' event then delivers it to both sides' sockets.
          message: handle(messageFrame, async ({ content, client_id }) => {
            await sendLimiter.consume(actor.id);
            await services.messages.send(actor, { receiverId: peer.id, content, clientId: client_id });
          }),
        },
      };
    },
  },
  {
    path: /^\/ws\/group\/(\d{1,9})\/?$/,
    async open(actor, params, { services, sendLimiter }) {
      const groupId = pathId(params);
      await services.groups.requireMember(actor, groupId);
      return {
        rooms: [rooms.group(groupId)],
        handlers: {
          ping,
          message: handle(messageFrame, async ({ content, client_id }) => {
            await sendLimiter.consume(actor.id);
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
          ice_candidate: handle(iceFrame, ({ call_id, ...candidate }) => relay(actor, deps, call_id, { type: 'ice_candidate', ...candidate })),
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

/** Why a client request was refused, in the API's words. */
export interface Refusal {
  message: string;
  status: number;
}

/** The refusal an error stands for; undefined for unexpected errors (not the client's fault). */
export function refusal(err: unknown): Refusal | undefined {
  if (err instanceof ValidationError) {
    return { message: flattenFieldErrors(err.fields, ' '), status: err.status };
  }
  if (err instanceof AppError) return { message: err.message, status: err.status };
  return undefined;
}

/** A socket.io request handler: validated input in, the acknowledgement's fields out. */
export type RequestHandler = (request: unknown) => Promise<object>;

const request =
  <S extends z.ZodType>(schema: S, run: (input: z.output<S>) => Promise<object>): RequestHandler =>
  (input) =>
    run(parse(schema, input));

/** Who hears that the actor is typing: the one user, or the group's other members. */
async function typingAudience(actor: User, services: Services, input: z.output<typeof typingRequest>): Promise<number[]> {
  if ((input.to_user === undefined) === (input.group_id === undefined)) throw ValidationError.nonField('Give either to_user or group_id.');
  if (input.to_user !== undefined) {
    const peer = await services.users.get(input.to_user);
    if (peer.id === actor.id) throw ValidationError.nonField('You cannot send a message to yourself.');
    return [peer.id];
  }
  await services.groups.requireMember(actor, input.group_id as number);
  return (await services.groups.memberIds(input.group_id as number)).filter((userId) => userId !== actor.id);
}

/** The socket.io channel's requests (see schemas/protocol.ts), for one authenticated user. */
export function channelRequests(actor: User, deps: ChannelDeps): Record<keyof ClientToServerEvents, RequestHandler> {
  const { services, bus, sendLimiter } = deps;
  return {
    'dm:send': request(dmSendRequest, async ({ to, content, client_id }) => {
      await sendLimiter.consume(actor.id);
      return { message: presentDirectMessage(await services.messages.send(actor, { receiverId: to, content, clientId: client_id })) };
    }),
    'group:send': request(groupSendRequest, async ({ group_id, content, client_id }) => {
      await sendLimiter.consume(actor.id);
      return { message: presentGroupMessage(await services.groupMessages.send(actor, { groupId: group_id, content, clientId: client_id })) };
    }),
    'dm:read': request(dmReadRequest, async ({ message_id }) => ({ message: presentDirectMessage(await services.messages.markRead(actor, message_id)) })),
    typing: request(typingRequest, async (input) => {
      const recipients = await typingAudience(actor, services, input);
      await bus.publish('typing', {
        fromUserId: actor.id,
        username: actor.username,
        toUserId: input.to_user ?? null,
        groupId: input.group_id ?? null,
        isTyping: input.is_typing,
        recipients,
      });
      return {};
    }),
    'call:signal': request(signalRequest, async ({ call_id, ...rest }) => {
      await relay(actor, deps, call_id, rest);
      return {};
    }),
  };
}
