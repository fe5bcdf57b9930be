/** Groups and their membership: who may change a group, who may talk in it. */
import { Op, UniqueConstraintError, literal, type FindOptions, type ProjectionAlias } from 'sequelize';
import type { ServiceDeps } from './deps.js';
import type { UserService } from './users.js';
import { Group, GroupMember, User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { pageQuery, toPage, type Page, type PageRequest } from './pagination.js';
import type { Upload } from '../media/store.js';

export interface GroupInput {
  name: string;
  description?: string;
  image?: Upload;
}

export interface GroupChanges {
  name?: string;
  description?: string;
}

/** `id IN (subquery)` without dropping the page's own `id < before` condition. */
const idIn = (where: FindOptions['where'], subquery: string): FindOptions['where'] => ({ [Op.and]: [where ?? {}, { id: { [Op.in]: literal(`(${subquery})`) } }] });

export class GroupService {
  constructor(private readonly deps: ServiceDeps, private readonly users: UserService) {}

  /** Creator name, member count and the viewer's flags as subqueries: one query for a whole page. */
  private withStats(viewerId: number | null): FindOptions['attributes'] {
    const viewer = Number(viewerId ?? 0);
    const membership = (extra = '') => `EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = "Group"."id" AND m.user_id = ${viewer}${extra})`;
    return {
      include: [
        [literal('(SELECT u.username FROM users u WHERE u.id = "Group"."creator_id")'), 'creatorUsername'],
        [literal('(SELECT COUNT(*) FROM group_members m WHERE m.group_id = "Group"."id")'), 'membersCount'],
        [literal(membership()), 'isMember'],
        [literal(`("Group"."creator_id" = ${viewer} OR ${membership(" AND m.role = 'admin'")})`), 'isAdmin'],
      ],
    };
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

  async get(id: number, viewerId: number | null = null): Promise<Group> {
    const group = await Group.findByPk(id, { attributes: this.withStats(viewerId) });
    if (!group) throw new NotFound();
    return group;
  }

  async list(viewerId: number, page: PageRequest): Promise<Page<Group>> {
    const rows = await Group.findAll({ ...pageQuery(page), attributes: this.withStats(viewerId) });
    return toPage(rows, page, (g) => g.id);
  }

  /** Groups the user belongs to (created or joined). */
  async myGroups(viewerId: number, page: PageRequest): Promise<Page<Group>> {
    const q = pageQuery(page);
    const rows = await Group.findAll({
      ...q,
      where: idIn(q.where, `SELECT group_id FROM group_members WHERE user_id = ${Number(viewerId)}`),
      attributes: this.withStats(viewerId),
    });
    return toPage(rows, page, (g) => g.id);
  }

  /** Creates a group; its creator becomes its first member, as admin. */
  async create(actor: User, input: GroupInput): Promise<Group> {
    const group = await this.withImage(input.image, (image) =>
      this.deps.sequelize.transaction(async (transaction) => {
        const created = await Group.create({ name: input.name, description: input.description ?? '', image: image ?? null, creatorId: actor.id }, { transaction });
        await GroupMember.create({ groupId: created.id, userId: actor.id, role: 'admin' }, { transaction });
        return created;
      }),
    );
    return this.get(group.id, actor.id);
  }

  async update(actor: User, id: number, changes: GroupChanges, image?: Upload): Promise<Group> {
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
    await events.transaction(async (transaction) => {
      // Logged first: its recipients are the members the deletion is about to remove.
      await events.emit('group.deleted', { groupId: id }, transaction);
      await group.destroy({ transaction });
    });
    await this.deps.media.remove(group.image);
  }

  async join(actor: User, id: number): Promise<void> {
    const group = await this.find(id);
    const { events } = this.deps;
    try {
      await events.transaction(async (transaction) => {
        await GroupMember.create({ groupId: group.id, userId: actor.id, role: 'member' }, { transaction });
        await events.emit('group.member_joined', { groupId: group.id, userId: actor.id, username: actor.username }, transaction);
      });
    } catch (err) {
      // The unique (group_id, user_id) index decides, so two simultaneous joins cannot both succeed.
      if (err instanceof UniqueConstraintError) throw ValidationError.nonField('You are already a member of this group.');
      throw err;
    }
  }

  async leave(actor: User, id: number): Promise<void> {
    const group = await this.find(id);
    if (group.creatorId === actor.id) throw ValidationError.nonField('The group creator cannot leave the group.');
    const { events } = this.deps;
    const removed = await events.transaction(async (transaction) => {
      const count = await GroupMember.destroy({ where: { groupId: group.id, userId: actor.id }, transaction });
      if (count) await events.emit('group.member_left', { groupId: group.id, userId: actor.id, username: actor.username }, transaction);
      return count;
    });
    if (!removed) throw ValidationError.nonField('You are not a member of this group.');
  }

  /** Members as full users (with the viewer's follow flags), each carrying `groupRole`. */
  async members(id: number, viewerId: number, page: PageRequest): Promise<Page<User>> {
    await this.find(id);
    const q = pageQuery(page);
    const groupId = Number(id);
    const stats = this.users.withStats(viewerId) as { include: ProjectionAlias[] };
    const rows = await User.findAll({
      ...q,
      where: idIn(q.where, `SELECT user_id FROM group_members WHERE group_id = ${groupId}`),
      attributes: { include: [...stats.include, [literal(`(SELECT m.role FROM group_members m WHERE m.group_id = ${groupId} AND m.user_id = "User"."id")`), 'groupRole']] },
    });
    return toPage(rows, page, (u) => u.id);
  }

  async isMember(groupId: number, userId: number): Promise<boolean> {
    return (await GroupMember.count({ where: { groupId, userId } })) > 0;
  }

  /** For group chat: 404 when the group does not exist, 403 when the actor is not in it. */
  async requireMember(actor: User, groupId: number): Promise<void> {
    await this.find(groupId);
    if (!(await this.isMember(groupId, actor.id))) throw new PermissionDenied();
  }
}
