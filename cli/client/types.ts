/**
 * The JSON the jvai REST API returns, as the OpenAPI document served at /api/schema/ describes
 * it. Messages and calls reuse the server's event payload types: the same objects travel over
 * REST and WebSockets, so the client and the server share one definition of them.
 */
import type { CallPayload, DirectMessagePayload, GroupMessagePayload, NestedUserPayload } from '../../src/events/types.js';

/** A user inside another object (calls, messages). */
export type NestedUser = NestedUserPayload;

/** A post's or comment's author: a nested user with the avatar. */
export interface Author extends NestedUser {
  profile_picture: string | null;
}

export interface User {
  id: number;
  username: string;
  /** Shown to its owner only; `null` for everyone else. */
  email: string | null;
  first_name: string;
  last_name: string;
  full_name: string;
  bio: string | null;
  profile_picture: string | null;
  is_online: boolean;
  last_seen: string | null;
  followers_count: number;
  following_count: number;
  is_following: boolean;
}

/** A group member: the user plus their role in the group. */
export interface GroupMember extends User {
  role: 'admin' | 'member';
}

export interface Comment {
  id: number;
  post: number;
  author: number;
  author_username: string;
  author_details: Author;
  content: string;
  created_at: string;
  updated_at: string;
  likes_count: number;
  user_liked: boolean;
}

export interface Post {
  id: number;
  author: number;
  author_details: Author;
  author_username: string;
  content: string;
  image: string | null;
  created_at: string;
  updated_at: string;
  likes_count: number;
  comments_count: number;
  user_liked: boolean;
  /** The newest 50 comments, oldest first. */
  comments: Comment[];
}

export interface Group {
  id: number;
  name: string;
  description: string;
  image: string | null;
  creator: number;
  creator_username: string;
  members_count: number;
  is_member: boolean;
  is_admin: boolean;
  created_at: string;
  updated_at: string;
}

export type DirectMessage = DirectMessagePayload;
export type GroupMessage = GroupMessagePayload;
export type Call = CallPayload;

export interface Conversation {
  /** The other participant. */
  user: Author & { is_online: boolean; last_seen: string | null };
  last_message: DirectMessage;
  unread_count: number;
}

/** What register and login answer. */
export interface AuthResponse {
  user: User;
  access: string;
  refresh: string;
}

/** An access + refresh token pair (refresh tokens rotate on every use). */
export interface TokenPair {
  access: string;
  refresh: string;
}

export interface MessageResponse {
  message: string;
}

export interface LikeResponse extends MessageResponse {
  liked: boolean;
}
