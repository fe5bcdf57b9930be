import type { DirectMessagePayload, GroupMessagePayload } from '../events/types.js';
import type { ConversationRow, DirectMessageRow, GroupMessageRow } from '../db/rows.js';
import { bool, num } from '../db/sql.js';
import { iso, type Viewer } from './context.js';

/** Plain JSON: the same object goes to REST clients and, through the bus, to sockets. */
export function presentDirectMessage(message: DirectMessageRow): DirectMessagePayload {
  return {
    id: num(message.id),
    sender: num(message.senderId),
    sender_username: message.senderUsername,
    receiver: num(message.receiverId),
    receiver_username: message.receiverUsername,
    content: message.content,
    is_read: bool(message.isRead),
    read_at: iso(message.readAt),
    created_at: iso(message.createdAt),
  };
}

export function presentGroupMessage(message: GroupMessageRow): GroupMessagePayload {
  return {
    id: num(message.id),
    group: num(message.groupId),
    sender: num(message.senderId),
    sender_username: message.senderUsername,
    content: message.content,
    created_at: iso(message.createdAt),
  };
}

export function presentConversation(c: ConversationRow, viewer: Viewer) {
  return {
    user: {
      id: num(c.partnerId),
      username: c.partnerUsername,
      full_name: `${c.partnerFirstName ?? ''} ${c.partnerLastName ?? ''}`.trim(),
      profile_picture: viewer.media.url(c.partnerProfilePicture ?? null, viewer.baseUrl),
      is_online: bool(c.partnerIsOnline),
      last_seen: iso(c.partnerLastSeen),
    },
    last_message: presentDirectMessage(c),
    unread_count: num(c.unreadCount),
  };
}
