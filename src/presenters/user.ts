import { bool, num } from '../db/sql.js';
import type { AuthorRow, UserRow } from '../db/rows.js';
import { iso, type Viewer } from './context.js';
import type { NestedUserPayload } from '../events/types.js';

export function presentUser(user: UserRow, viewer: Viewer) {
  return {
    id: user.id,
    username: user.username,
    email: viewer.userId === user.id ? user.email : null,
    first_name: user.firstName,
    last_name: user.lastName,
    full_name: fullName(user),
    bio: user.bio ?? null,
    profile_picture: viewer.media.url(user.profilePicture ?? null, viewer.baseUrl),
    is_online: bool(user.isOnline),
    last_seen: iso(user.lastSeen),
    followers_count: num(user.followersCount),
    following_count: num(user.followingCount),
    is_following: bool(user.isFollowing),
  };
}

/** As User.fullName: first and last name, trimmed. */
const fullName = (user: Pick<AuthorRow, 'firstName' | 'lastName'>): string => `${user.firstName ?? ''} ${user.lastName ?? ''}`.trim();

/** A plain row or a User model alike. */
export function presentNestedUser(user: Omit<AuthorRow, 'profilePicture'>): NestedUserPayload {
  return { id: user.id, username: user.username, full_name: fullName(user) };
}

/** Nested user with the avatar, as posts and comments show their author. */
export function presentAuthor(user: AuthorRow, viewer: Viewer) {
  return { ...presentNestedUser(user), profile_picture: viewer.media.url(user.profilePicture ?? null, viewer.baseUrl) };
}
