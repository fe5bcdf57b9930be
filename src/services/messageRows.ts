/** Rows the message services read (plain SQL results; dates and flags as the dialect returns them). */
export interface DirectMessageRow {
  id: number;
  senderId: number;
  senderUsername: string;
  receiverId: number;
  receiverUsername: string;
  content: string;
  isRead: boolean | number;
  readAt: Date | string | null;
  createdAt: Date | string;
}

/** A conversation summary row joined with its partner and its last message. */
export interface ConversationRow extends DirectMessageRow {
  unreadCount: number | string;
  partnerId: number;
  partnerUsername: string;
  partnerFirstName: string;
  partnerLastName: string;
  partnerProfilePicture: string | null;
  partnerIsOnline: boolean | number;
  partnerLastSeen: Date | string | null;
}

export interface GroupMessageRow {
  id: number;
  groupId: number;
  senderId: number;
  senderUsername: string;
  content: string;
  createdAt: Date | string;
}
