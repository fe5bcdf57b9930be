import { bool, num } from '../db/sql.js';
import type { GroupRow, MemberRow } from '../db/rows.js';
import { iso, type Viewer } from './context.js';
import { presentUser } from './user.js';

export function presentGroup(group: GroupRow, viewer: Viewer) {
  return {
    id: group.id,
    name: group.name,
    description: group.description ?? '',
    image: viewer.media.url(group.image ?? null, viewer.baseUrl),
    creator: group.creatorId,
    creator_username: group.creatorUsername ?? '',
    members_count: num(group.membersCount),
    is_member: bool(group.isMember),
    is_admin: bool(group.isAdmin),
    created_at: iso(group.createdAt),
    updated_at: iso(group.updatedAt),
  };
}

/** A member: the full user, plus their role in the group. */
export function presentMember(member: MemberRow, viewer: Viewer) {
  return { ...presentUser(member, viewer), role: member.role ?? 'member' };
}
