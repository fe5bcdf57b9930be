import type { Group, User } from '../models/index.js';
import type { GroupRole } from '../models/group.js';
import { iso, type Viewer } from './context.js';
import { presentUser } from './user.js';

/** Values loaded alongside a group by GroupService (correlated subqueries); absent when not queried. */
export interface GroupStats {
  creatorUsername?: string;
  membersCount?: number;
  isMember?: boolean;
  isAdmin?: boolean;
}

const stat = (group: Group, name: keyof GroupStats): unknown => group.get(name as never);
const flag = (v: unknown): boolean => Boolean(Number(v ?? 0));

export function presentGroup(group: Group, viewer: Viewer) {
  return {
    id: group.id,
    name: group.name,
    description: group.description ?? '',
    image: viewer.media.url(group.image ?? null, viewer.baseUrl),
    creator: group.creatorId,
    creator_username: String(stat(group, 'creatorUsername') ?? ''),
    members_count: Number(stat(group, 'membersCount') ?? 0),
    is_member: flag(stat(group, 'isMember')),
    is_admin: flag(stat(group, 'isAdmin')),
    created_at: iso(group.createdAt),
    updated_at: iso(group.updatedAt),
  };
}

/** A member: the full user, plus their role in the group (loaded as `groupRole`). */
export function presentMember(user: User, viewer: Viewer) {
  return { ...presentUser(user, viewer), role: (user.get('groupRole' as never) as unknown as GroupRole | undefined) ?? 'member' };
}
