import type { CallStatus, CallType } from '../models/call.js';

/**
 * The plain rows that hot reads select (raw SQL through sqlOf(sequelize).read) and presenters
 * take. Column aliases are camelCase so both dialects return these shapes; values keep what the
 * driver gives — presenters normalize them (num/bool/iso).
 */

/** A timestamp: a Date on PostgreSQL, text such as '2026-11-30 22:56:38.860 +00:00' on SQLite. */
export type DbDate = Date | string;
/** A boolean column: true/false on PostgreSQL, 1/0 on SQLite. */
export type DbBool = boolean | number;
/** An integer counter (a stored column): a number, or a string for PostgreSQL bigint/COUNT. */
export type DbCount = number | string;

/** What a nested author shows (posts, comments, conversations). */
export interface AuthorRow {
  id: number;
  username: string;
  firstName: string;
  lastName: string;
  profilePicture: string | null;
}

/** A user as the users endpoints show it. */
export interface UserRow extends AuthorRow {
  email: string;
  bio: string | null;
  isOnline: DbBool;
  lastSeen: DbDate | null;
  followersCount: DbCount;
  followingCount: DbCount;
  /** Set by the service from one query per page (see UserService). */
  isFollowing: boolean;
}

/** A group member: the user and their role in the group. */
export interface MemberRow extends UserRow {
  role: string;
}

/** An account as `jvai admin users list` shows it. */
export interface AccountRow {
  id: number;
  username: string;
  email: string;
  firstName: string;
  lastName: string;
  isAdmin: DbBool;
  isBanned: DbBool;
  isOnline: DbBool;
  lastSeen: DbDate | null;
  createdAt: DbDate;
}

/** A row with its author's columns joined in (`author…` aliases). */
export interface AuthoredRow {
  authorId: number;
  authorUsername: string;
  authorFirstName: string;
  authorLastName: string;
  authorProfilePicture: string | null;
}

export interface CommentRow extends AuthoredRow {
  id: number;
  postId: number;
  content: string;
  createdAt: DbDate;
  updatedAt: DbDate;
  likesCount: DbCount;
  /** Set by the service from one query per page. */
  userLiked: boolean;
}

export interface PostRow extends AuthoredRow {
  id: number;
  content: string;
  image: string | null;
  createdAt: DbDate;
  updatedAt: DbDate;
  likesCount: DbCount;
  commentsCount: DbCount;
  renderVersion: DbCount;
  /** Set by the service from one query per page. */
  userLiked: boolean;
}

/** A post with what its presenter shows besides its own columns. */
export interface PostView {
  post: PostRow;
  /** The newest comments, oldest first. */
  comments: CommentRow[];
}

/**
 * What a post's cached rendering is checked against (its own row: the counters and
 * render_version, which triggers bump on every save of the post and on any change to its
 * comments), with the viewer's like.
 */
export interface PostStampRow {
  id: number;
  likesCount: DbCount;
  commentsCount: DbCount;
  renderVersion: DbCount;
  userLiked: DbBool;
  /** The viewer's likes among the post's comments (only the nested ones show): comma-separated ids, or NULL. */
  likedComments: string | null;
}

export interface GroupRow {
  id: number;
  name: string;
  description: string | null;
  image: string | null;
  creatorId: number;
  creatorUsername: string | null;
  membersCount: DbCount;
  /** Whether the viewer is a member; NULL (no membership row) reads as false. */
  isMember: DbBool | null;
  /** The viewer created the group or is one of its admins. */
  isAdmin: DbBool | null;
  createdAt: DbDate;
  updatedAt: DbDate;
}

/** The author of an AuthoredRow, in the shape presentAuthor() takes. */
export const authorOf = (row: AuthoredRow): AuthorRow => ({
  id: row.authorId,
  username: row.authorUsername,
  firstName: row.authorFirstName,
  lastName: row.authorLastName,
  profilePicture: row.authorProfilePicture,
});

/** A direct message with both usernames. */
export interface DirectMessageRow {
  id: number;
  senderId: number;
  senderUsername: string;
  receiverId: number;
  receiverUsername: string;
  content: string;
  isRead: DbBool;
  readAt: DbDate | null;
  createdAt: DbDate;
}

/** A conversation summary row joined with its partner and its last message. */
export interface ConversationRow extends DirectMessageRow {
  unreadCount: DbCount;
  partnerId: number;
  partnerUsername: string;
  partnerFirstName: string;
  partnerLastName: string;
  partnerProfilePicture: string | null;
  partnerIsOnline: DbBool;
  partnerLastSeen: DbDate | null;
}

export interface GroupMessageRow {
  id: number;
  groupId: number;
  senderId: number;
  senderUsername: string;
  content: string;
  createdAt: DbDate;
}

/** A call with both parties' names joined in (`caller…` and `callee…` aliases). */
export interface CallRow {
  id: number;
  callType: CallType;
  status: CallStatus;
  startedAt: DbDate;
  answeredAt: DbDate | null;
  endedAt: DbDate | null;
  callerId: number;
  callerUsername: string;
  callerFirstName: string;
  callerLastName: string;
  calleeId: number;
  calleeUsername: string;
  calleeFirstName: string;
  calleeLastName: string;
}
