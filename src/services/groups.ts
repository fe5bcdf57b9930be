/** Groups and their membership: who may change a group, who may talk in it. */
import type { ServiceDeps } from './deps.js';
import type { UserService } from './users.js';
import { Group, GroupMember, type User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { keyset, toPage, type Page, type PageRequest } from './pagination.js';
import type { Upload } from '../media/store.js';
import { sqlOf, transaction } from '../db/connection.js';
import type { Sql, SqlRunner, SqlValue } from '../db/sql.js';
import { USER_COLUMNS, packedRows } from './reads.js';
import { checkedWrite } from './references.js';
import type { GroupRow, MemberRow } from '../db/rows.js';

/** A member: the user's columns (`u`) and the membership's role (`m`). */
const MEMBER_COLUMNS = { ...USER_COLUMNS, role: 'm.role' };

export interface GroupInput {
  name: string;
  description?: string;
  image?: Upload;
}

export interface GroupChanges {
  name?: string;
  description?: string;
}

/**
 * A group's columns (members_count is stored) and the viewer's flags, from `social_groups` as
 * `g`, its creator as `cu` and the viewer's membership as `m`; the first two parameters are the
 * viewer's id.
 */
const GROUP_SELECT = `SELECT g.id, g.name, g.description, g.image, g.creator_id AS "creatorId", cu.username AS "creatorUsername",
    g.members_count AS "membersCount", m.id IS NOT NULL AS "isMember", (g.creator_id = ? OR m.role = 'admin') AS "isAdmin",
    g.created_at AS "createdAt", g.updated_at AS "updatedAt"
  FROM social_groups g
  LEFT JOIN users cu ON cu.id = g.creator_id
  LEFT JOIN group_members m ON m.group_id = g.id AND m.user_id = ?`;

/** A group's member ids, as `db` sees them (inside a write job: with its own changes). */
export async function memberIds(db: SqlRunner, groupId: number): Promise<number[]> {
  const rows = await db.all<{ user_id: number | string }>('SELECT user_id FROM group_members WHERE group_id = ?', [groupId]);
  return rows.map((r) => Number(r.user_id));
}

export class GroupService {
  private readonly sql: Sql;

  constructor(private readonly deps: ServiceDeps, private readonly users: UserService) {
    this.sql = sqlOf(deps.sequelize);
  }

  private async find(id: number): Promise<Group> {
    const group = await Group.findByPk(id);
    if (!group) throw new NotFound();
    return group;
  }

  /** Only the creator and admins may change or delete a group. */
  private async assertManager(actor: User, group: Group): Promise<void> {
    if (group.creatorId === actor.id) return;
    const admin = await GroupMember.count({ where: { groupId: group.id, userId: actor.id, role: 'admin' } });
    if (!admin) throw new PermissionDenied();
  }

  /** Stores the upload (if any) before `write`, and removes it again if `write` fails. */
  private async withImage<T>(upload: Upload | undefined, write: (image: string | undefined) => Promise<T>): Promise<T> {
    const image = upload ? await this.deps.media.saveImage('groups', upload) : undefined;
    try {
      return await write(image);
    } catch (err) {
      await this.deps.media.remove(image);
      throw err;
    }
  }

  async get(id: number, viewerId: number | null = null): Promise<GroupRow> {
    const viewer = viewerId ?? 0;
    const group = await this.sql.read.get<GroupRow>(`${GROUP_SELECT} WHERE g.id = ?`, [viewer, viewer, id]);
    if (!group) throw new NotFound();
    return group;
  }

  /** One page of groups, newest first; `where` (with `params`) selects them. */
  private async page(where: string, params: SqlValue[], viewerId: number, page: PageRequest): Promise<Page<GroupRow>> {
    const k = keyset(this.sql, page, 'g.id');
    const rows = await this.sql.read.all<GroupRow>(`${GROUP_SELECT} WHERE ${where}${k.and}${k.order}`, [viewerId, viewerId, ...params, ...k.params]);
    return toPage(rows, page, (g) => g.id);
  }

  list(viewerId: number, page: PageRequest): Promise<Page<GroupRow>> {
    return this.page('1 = 1', [], viewerId, page);
  }

  /** Groups the user belongs to (created or joined). */
  myGroups(viewerId: number, page: PageRequest): Promise<Page<GroupRow>> {
    return this.page('g.id IN (SELECT group_id FROM group_members WHERE user_id = ?)', [viewerId], viewerId, page);
  }

  /** Creates a group; its creator becomes its first member, as admin. */
  async create(actor: User, input: GroupInput): Promise<GroupRow> {
    const group = await this.withImage(input.image, (image) =>
      transaction(this.deps.sequelize, async (transaction) => {
        const created = await Group.create({ name: input.name, description: input.description ?? '', image: image ?? null, creatorId: actor.id }, { transaction });
        await GroupMember.create({ groupId: created.id, userId: actor.id, role: 'admin' }, { transaction });
        return created;
      }),
    );
    return this.get(group.id, actor.id);
  }

  async update(actor: User, id: number, changes: GroupChanges, image?: Upload): Promise<GroupRow> {
    const group = await this.find(id);
    await this.assertManager(actor, group);
    const oldImage = group.image;
    const newImage = await this.withImage(image, async (stored) => {
      if (changes.name !== undefined) group.name = changes.name;
      if (changes.description !== undefined) group.description = changes.description;
      if (stored) group.image = stored;
      await group.save();
      return stored;
    });
    if (newImage) await this.deps.media.remove(oldImage);
    return this.get(id, actor.id);
  }

  /** Deletes a group; members and messages go with it through the foreign keys. */
  async delete(actor: User, id: number): Promise<void> {
    const group = await this.find(id);
    await this.assertManager(actor, group);
    const { events } = this.deps;
    await this.sql.write(async (tx) => {
      // Logged first: its recipients are the members the deletion is about to remove.
      await events.log(tx, 'group.deleted', { groupId: id }, await memberIds(tx, id));
      await tx.run('DELETE FROM social_groups WHERE id = ?', [id]);
    });
    await this.deps.media.remove(group.image);
  }

  async join(actor: User, id: number): Promise<void> {
    const { events } = this.deps;
    const joined = await checkedWrite(
      () => this.find(id),
      () =>
        this.sql.write(async (tx) => {
          // The unique (group_id, user_id) index decides, so two simultaneous joins cannot both succeed.
          const { changes } = await tx.run("INSERT INTO group_members (group_id, user_id, role, created_at) VALUES (?, ?, 'member', ?) ON CONFLICT (group_id, user_id) DO NOTHING", [
            id,
            actor.id,
            new Date(),
          ]);
          if (changes) await events.log(tx, 'group.member_joined', { groupId: id, userId: actor.id, username: actor.username }, await memberIds(tx, id));
          return changes > 0;
        }),
    );
    if (!joined) throw ValidationError.nonField('You are already a member of this group.');
  }

  async leave(actor: User, id: number): Promise<void> {
    const group = await this.find(id);
    if (group.creatorId === actor.id) throw ValidationError.nonField('The group creator cannot leave the group.');
    const { events } = this.deps;
    const left = await this.sql.write(async (tx) => {
      const { changes } = await tx.run('DELETE FROM group_members WHERE group_id = ? AND user_id = ?', [id, actor.id]);
      // The member just removed still hears that they left.
      if (changes) await events.log(tx, 'group.member_left', { groupId: id, userId: actor.id, username: actor.username }, [...(await memberIds(tx, id)), actor.id]);
      return changes > 0;
    });
    if (!left) throw ValidationError.nonField('You are not a member of this group.');
  }

  /** Members as full users (with the viewer's follow flags) and their role, in the (group_id, user_id) index's order. */
  async members(id: number, viewerId: number, page: PageRequest): Promise<Page<MemberRow>> {
    const k = keyset(this.sql, page, 'm.user_id');
    const [exists, rows] = await Promise.all([
      this.sql.read.get('SELECT 1 AS one FROM social_groups WHERE id = ?', [id]),
      packedRows<MemberRow>(this.sql, MEMBER_COLUMNS, `FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ?${k.and}${k.order}`, [id, ...k.params]),
    ]);
    if (!exists) throw new NotFound();
    return toPage(await this.users.markFollowing(rows, viewerId), page, (u) => u.id);
  }

  async isMember(groupId: number, userId: number): Promise<boolean> {
    return (await GroupMember.count({ where: { groupId, userId } })) > 0;
  }

  /** Everyone in the group (typing indicators' audience). */
  memberIds(groupId: number): Promise<number[]> {
    return memberIds(this.sql.read, groupId);
  }

  /**
   * For group chat: the group must exist — else 404, or a bad value of `field` (400, as DRF
   * reports an unknown primary key) when a request body named it — and the actor be in it (403).
   */
  async requireMember(actor: User, groupId: number, field?: string): Promise<void> {
    if (!(await Group.count({ where: { id: groupId } }))) throw field === undefined ? new NotFound() : ValidationError.unknownPk(field, groupId);
    if (!(await this.isMember(groupId, actor.id))) throw new PermissionDenied();
  }
}
