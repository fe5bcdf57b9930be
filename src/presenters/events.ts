/**
 * Domain events as the socket.io channel sends them (schemas/protocol.ts): what the hub routes
 * to a recipient's inbox live, and what GET /api/events/ lists from the log afterwards.
 */
import type { CallPayload, LoggedEventName, LoggedEvents } from '../events/types.js';
import type { LoggedEvent } from '../events/outbox.js';
import type { ServerEventName, ServerToClientEvents } from '../schemas/protocol.js';

type Unsequenced<T> = T extends unknown ? Omit<T, 'seq'> : never;

/** A socket.io event as the hub routes it; `seq` is added per recipient on the way out. */
export type ChannelEvent = { [K in ServerEventName]: { event: K; data: Unsequenced<Parameters<ServerToClientEvents[K]>[0]> } }[ServerEventName];

export const channelEvent = <K extends ServerEventName>(event: K, data: Unsequenced<Parameters<ServerToClientEvents[K]>[0]>): ChannelEvent =>
  ({ event, data }) as ChannelEvent;

const membership = (e: LoggedEvents['group.member_joined']) => ({ group_id: e.groupId, user_id: e.userId, username: e.username });
const callEvent = ({ call, byUserId }: { call: CallPayload; byUserId?: number }) => ({ call, by_user_id: byUserId ?? null });

/** The socket.io event of each logged event; it goes to the inbox of every recipient. */
export const inboxEvents: { [K in LoggedEventName]: (e: LoggedEvents[K]) => ChannelEvent } = {
  'dm.created': ({ message }) => channelEvent('dm:new', message),
  'dm.read': ({ message }) => channelEvent('dm:read', message),
  'group_message.created': ({ message }) => channelEvent('group:message', message),
  'group.member_joined': (e) => channelEvent('group:joined', membership(e)),
  'group.member_left': (e) => channelEvent('group:left', membership(e)),
  'group.deleted': (e) => channelEvent('group:deleted', { group_id: e.groupId }),
  'call.started': (e) => channelEvent('call:started', callEvent(e)),
  'call.accepted': (e) => channelEvent('call:accepted', callEvent(e)),
  'call.rejected': (e) => channelEvent('call:rejected', callEvent(e)),
  'call.ended': (e) => channelEvent('call:ended', callEvent(e)),
  'call.missed': (e) => channelEvent('call:missed', callEvent(e)),
};

/** The socket.io event a logged event is for its recipient (as GET /api/events/ lists it). */
export function inboxEventOf(event: LoggedEvent): ChannelEvent {
  return (inboxEvents[event.name] as (e: LoggedEvents[LoggedEventName]) => ChannelEvent)(event.payload);
}
