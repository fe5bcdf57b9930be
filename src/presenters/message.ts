import type { DirectMessage, GroupMessage, User } from '../models/index.js';
import type { DirectMessagePayload, GroupMessagePayload } from '../events/types.js';
import { iso, type Viewer } from './context.js';
import { presentAuthor } from './user.js';

/** A user the service loaded with the message (include `as: 'sender'` / `'receiver'`). */
export const party = (message: DirectMessage | GroupMessage, as: 'sender' | 'receiver'): User => {
  const user = message.get(as as never) as unknown as User | undefined;
  if (!user) throw new Error(`message ${message.id} was loaded without its ${as}`);
  return user;
};

/** Plain JSON: the same object goes to REST clients and, through the bus, to sockets. */
export function presentDirectMessage(message: DirectMessage): DirectMessagePayload {
  const sender = party(message, 'sender');
  const receiver = party(message, 'receiver');
  return {
    id: message.id,
    sender: sender.id,
    sender_username: sender.username,
    receiver: receiver.id,
    receiver_username: receiver.username,
    content: message.content,
    is_read: Boolean(message.isRead),
    read_at: iso(message.readAt),
    created_at: iso(message.createdAt) as string,
  };
}

export function presentGroupMessage(message: GroupMessage): GroupMessagePayload {
  const sender = party(message, 'sender');
  return {
    id: message.id,
    group: message.groupId,
    sender: sender.id,
    sender_username: sender.username,
    content: message.content,
    created_at: iso(message.createdAt) as string,
  };
}

export interface Conversation {
  /** The other participant. */
  user: User;
  lastMessage: DirectMessage;
  unreadCount: number;
}

export function presentConversation(c: Conversation, viewer: Viewer) {
  return {
    user: { ...presentAuthor(c.user, viewer), is_online: c.user.isOnline, last_seen: iso(c.user.lastSeen) },
    last_message: presentDirectMessage(c.lastMessage),
    unread_count: c.unreadCount,
  };
}
