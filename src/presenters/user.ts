import type { User } from '../models/index.js';
import { iso, type Viewer } from './context.js';
import type { NestedUserPayload } from '../events/types.js';

/** Counts loaded alongside a user by users.withStats(); absent when not queried. */
export interface UserStats {
  followersCount?: number;
  followingCount?: number;
  isFollowing?: boolean;
}

const stat = (user: User, name: keyof UserStats): unknown => user.get(name as never);

export function presentUser(user: User, viewer: Viewer) {
  return {
    id: user.id,
    username: user.username,
    email: viewer.userId === user.id ? user.email : null,
    first_name: user.firstName,
    last_name: user.lastName,
    full_name: user.fullName,
    bio: user.bio ?? null,
    profile_picture: viewer.media.url(user.profilePicture ?? null, viewer.baseUrl),
    is_online: user.isOnline,
    last_seen: iso(user.lastSeen),
    followers_count: Number(stat(user, 'followersCount') ?? 0),
    following_count: Number(stat(user, 'followingCount') ?? 0),
    is_following: Boolean(Number(stat(user, 'isFollowing') ?? 0)),
  };
}

export function presentNestedUser(user: User): NestedUserPayload {
  return { id: user.id, username: user.username, full_name: user.fullName };
}

/** Nested user with the avatar, as posts and comments show their author. */
export function presentAuthor(user: User, viewer: Viewer) {
  return { ...presentNestedUser(user), profile_picture: viewer.media.url(user.profilePicture ?? null, viewer.baseUrl) };
}
