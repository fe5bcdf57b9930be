/** Accounts, profiles, follows and presence flags. */
import { Op, QueryTypes, col, fn, literal, where as sqlWhere, type FindOptions, type Transaction } from 'sequelize';
import type { ServiceDeps } from './deps.js';
import { Follow, GroupMember, Group, Post, User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { burnPasswordCheck, hashPassword, passwordProblems, verifyPassword } from './passwords.js';
import type { TokenService } from './tokens.js';
import { pageQuery, toPage, type Page, type PageRequest } from './pagination.js';
import type { Upload } from '../media/store.js';

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  firstName?: string;
  lastName?: string;
}

export interface ProfileInput {
  username?: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  bio?: string | null;
}

export class UserService {
  constructor(private readonly deps: ServiceDeps, private readonly tokens: TokenService) {}

  /** Follower/following counts and is_following as subqueries: one query for a whole page. */
  withStats(viewerId: number | null): FindOptions['attributes'] {
    const isFollowing = viewerId
      ? `EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ${Number(viewerId)} AND f.following_id = "User"."id")`
      : 'false';
    return {
      include: [
        [literal('(SELECT COUNT(*) FROM follows f WHERE f.following_id = "User"."id")'), 'followersCount'],
        [literal('(SELECT COUNT(*) FROM follows f WHERE f.follower_id = "User"."id")'), 'followingCount'],
        [literal(isFollowing), 'isFollowing'],
      ],
    };
  }

  async get(id: number, viewerId: number | null = null): Promise<User> {
    const user = await User.findByPk(id, { attributes: this.withStats(viewerId) });
    if (!user) throw new NotFound();
    return user;
  }

  async findByUsername(username: string): Promise<User | null> {
    return User.findOne({ where: { usernameLower: username.toLowerCase() } });
  }

  /** Resolves a user given by id or by username, as DM and call endpoints accept both. */
  async resolve(ref: { id?: number; username?: string }, field: string): Promise<User> {
    const user = ref.id !== undefined ? await User.findByPk(ref.id) : ref.username !== undefined ? await this.findByUsername(ref.username) : null;
    if (!user) throw ValidationError.field(field, ref.id !== undefined ? `Invalid pk "${ref.id}" - object does not exist.` : 'User not found.');
    return user;
  }

  async list(viewerId: number | null, page: PageRequest, search?: string): Promise<Page<User>> {
    const q = pageQuery(page);
    // instr/strpos rather than LIKE: the user's text is matched literally, % and _ included.
    const position = this.deps.sequelize.getDialect() === 'postgres' ? 'strpos' : 'instr';
    const needle = search?.toLowerCase();
    const where = needle
      ? { ...q.where, [Op.or]: ['username_lower', 'first_name', 'last_name'].map((c) => sqlWhere(fn(position, fn('lower', col(c)), needle), Op.gt, 0)) }
      : q.where;
    const rows = await User.findAll({ ...q, where, attributes: this.withStats(viewerId) });
    return toPage(rows, page, (u) => u.id);
  }

  async online(viewerId: number, page: PageRequest): Promise<Page<User>> {
    const q = pageQuery(page);
    const rows = await User.findAll({ ...q, where: { ...q.where, isOnline: true }, attributes: this.withStats(viewerId) });
    return toPage(rows, page, (u) => u.id);
  }

  async followers(userId: number, viewerId: number, page: PageRequest): Promise<Page<User>> {
    return this.related(userId, viewerId, page, `SELECT follower_id FROM follows WHERE following_id = ${Number(userId)}`);
  }

  async following(userId: number, viewerId: number, page: PageRequest): Promise<Page<User>> {
    return this.related(userId, viewerId, page, `SELECT following_id FROM follows WHERE follower_id = ${Number(userId)}`);
  }

  /** A page of the users whose ids `idsSql` selects, after checking that `userId` exists. */
  private async related(userId: number, viewerId: number, page: PageRequest, idsSql: string): Promise<Page<User>> {
    await this.get(userId);
    const q = pageQuery(page);
    const rows = await User.findAll({
      ...q,
      where: { [Op.and]: [q.where, { id: { [Op.in]: literal(`(${idsSql})`) } }] },
      attributes: this.withStats(viewerId),
    });
    return toPage(rows, page, (u) => u.id);
  }

  private async checkUnique(fields: { username?: string; email?: string }, exceptId?: number): Promise<void> {
    const errors: Record<string, string[]> = {};
    if (fields.username !== undefined) {
      const taken = await User.findOne({ where: { usernameLower: fields.username.toLowerCase(), ...(exceptId ? { id: { [Op.ne]: exceptId } } : {}) } });
      if (taken) errors.username = ['A user with that username already exists.'];
    }
    if (fields.email !== undefined) {
      const taken = await User.findOne({ where: { email: fields.email.toLowerCase(), ...(exceptId ? { id: { [Op.ne]: exceptId } } : {}) } });
      if (taken) errors.email = ['A user with that email already exists.'];
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
  }

  /** Creates an account; used by registration and by `jvai admin users create`. */
  async create(input: RegisterInput & { isAdmin?: boolean }): Promise<User> {
    const problems = passwordProblems(input.password, input);
    if (problems.length) throw new ValidationError({ password: problems });
    await this.checkUnique(input);
    const passwordHash = await hashPassword(input.password);
    return User.create({
        username: input.username,
        usernameLower: input.username.toLowerCase(),
        email: input.email.toLowerCase(),
        passwordHash,
        firstName: input.firstName ?? '',
        lastName: input.lastName ?? '',
        isAdmin: input.isAdmin ?? false,
      });
  }

  /** Checks credentials; `login` may be a username or an email. Returns null when they do not match. */
  async checkCredentials(login: string, password: string): Promise<User | null> {
    const lower = login.toLowerCase();
    const user = await User.findOne({ where: lower.includes('@') ? { [Op.or]: [{ email: lower }, { usernameLower: lower }] } : { usernameLower: lower } });
    if (!user) {
      await burnPasswordCheck(password);
      return null;
    }
    if (!(await verifyPassword(user.passwordHash, password))) return null;
    return user;
  }

  private assertOwner(actor: User, id: number): void {
    if (actor.id !== id) throw new PermissionDenied();
  }

  async update(actor: User, id: number, input: ProfileInput, picture?: Upload): Promise<User> {
    const user = await this.get(id);
    this.assertOwner(actor, id);
    await this.checkUnique({ username: input.username, email: input.email }, id);
    const newPicture = picture ? await this.deps.media.saveImage('avatars', picture) : undefined;
    const oldPicture = user.profilePicture;
    try {
      if (input.username !== undefined) user.set({ username: input.username, usernameLower: input.username.toLowerCase() });
      if (input.email !== undefined) user.email = input.email.toLowerCase();
      if (input.firstName !== undefined) user.firstName = input.firstName;
      if (input.lastName !== undefined) user.lastName = input.lastName;
      if (input.bio !== undefined) user.bio = input.bio;
      if (newPicture) user.profilePicture = newPicture;
      await user.save();
    } catch (err) {
      await this.deps.media.remove(newPicture);
      throw err;
    }
    if (newPicture) await this.deps.media.remove(oldPicture);
    return this.get(id, actor.id);
  }

  async changePassword(actor: User, oldPassword: string, newPassword: string): Promise<void> {
    if (!(await verifyPassword(actor.passwordHash, oldPassword))) throw ValidationError.field('old_password', 'Your old password was entered incorrectly. Please enter it again.');
    const problems = passwordProblems(newPassword, actor);
    if (problems.length) throw new ValidationError({ new_password: problems });
    await this.setPassword(actor, newPassword);
  }

  /** Sets a password and ends every session of the user (used by reset-password too). */
  async setPassword(user: User, password: string): Promise<void> {
    user.passwordHash = await hashPassword(password);
    await user.save();
    await this.tokens.revokeAll(user.id);
  }

  /** Deletes an account and, through the foreign keys, everything it wrote; then its files. */
  async delete(actor: User | null, id: number): Promise<void> {
    const user = await this.get(id);
    if (actor) this.assertOwner(actor, id);
    // First, so no socket or token of the account keeps working while it is being deleted.
    await this.tokens.revokeAll(id);
    const files = await this.deps.sequelize.transaction(async (transaction: Transaction) => {
      const posts = await Post.findAll({ where: { authorId: id, image: { [Op.ne]: null } }, attributes: ['image'], transaction });
      const groups = await Group.findAll({ where: { creatorId: id, image: { [Op.ne]: null } }, attributes: ['image'], transaction });
      await user.destroy({ transaction });
      return [user.profilePicture, ...posts.map((p) => p.image), ...groups.map((g) => g.image)];
    });
    await this.deps.media.remove(...files);
  }

  /** An administrator's reset: the same password rules as registration, then every session ends. */
  async resetPassword(user: User, password: string): Promise<void> {
    const problems = passwordProblems(password, user);
    if (problems.length) throw new ValidationError({ password: problems });
    await this.setPassword(user, password);
  }

  async setAdmin(user: User, isAdmin: boolean): Promise<void> {
    user.isAdmin = isAdmin;
    await user.save();
  }

  async setBanned(user: User, banned: boolean): Promise<void> {
    user.isBanned = banned;
    await user.save();
    if (banned) {
      await this.tokens.revokeAll(user.id);
    }
  }

  async follow(actor: User, targetId: number): Promise<User> {
    const target = await this.get(targetId);
    if (target.id === actor.id) throw ValidationError.nonField('You cannot follow yourself.');
    // INSERT … ON CONFLICT DO NOTHING: following twice (even concurrently) is a no-op.
    await Follow.bulkCreate([{ followerId: actor.id, followingId: target.id }], { ignoreDuplicates: true });
    return target;
  }

  async unfollow(actor: User, targetId: number): Promise<User> {
    const target = await this.get(targetId);
    await Follow.destroy({ where: { followerId: actor.id, followingId: target.id } });
    return target;
  }

  /** Flags a user on- or offline and tells everyone who cares. */
  async setPresence(user: User, isOnline: boolean): Promise<void> {
    const lastSeen = isOnline ? user.lastSeen : new Date();
    await User.update({ isOnline, lastSeen }, { where: { id: user.id } });
    user.set({ isOnline, lastSeen });
    await this.announcePresence(user.id, user.username, isOnline, lastSeen);
  }

  /**
   * Sets the flag only where it differs (one conditional UPDATE) and announces only a change this
   * call made: several processes may reach the same verdict about a user at once. True if it changed.
   */
  async flipPresence(userId: number, isOnline: boolean): Promise<boolean> {
    const [changed] = await User.update(isOnline ? { isOnline } : { isOnline, lastSeen: new Date() }, { where: { id: userId, isOnline: !isOnline } });
    if (!changed) return false;
    const user = await User.findByPk(userId, { attributes: ['id', 'username', 'lastSeen'] });
    if (user) await this.announcePresence(user.id, user.username, isOnline, user.lastSeen);
    return true;
  }

  /** Ids of the users flagged online (presence is re-derived from live connections at boot). */
  async onlineIds(): Promise<number[]> {
    return (await User.findAll({ where: { isOnline: true }, attributes: ['id'], raw: true })).map((u) => u.id);
  }

  private async announcePresence(userId: number, username: string, isOnline: boolean, lastSeen: Date | null): Promise<void> {
    await this.deps.bus.publish('presence.changed', { userId, username, isOnline, lastSeen: lastSeen ? lastSeen.toISOString() : null });
  }

  /** Ids of users who see this user's presence: followers and fellow group members. */
  async presenceAudience(userId: number): Promise<number[]> {
    const followers = await Follow.findAll({ where: { followingId: userId }, attributes: ['followerId'] });
    const fellows = await GroupMember.findAll({
      where: { groupId: { [Op.in]: literal(`(SELECT group_id FROM group_members WHERE user_id = ${Number(userId)})`) }, userId: { [Op.ne]: userId } },
      attributes: ['userId'],
    });
    return [...new Set([...followers.map((f) => f.followerId), ...fellows.map((m) => m.userId)])];
  }

  /** Who hears of a user's new post (their followers) and the author's username, in one query; null once the author is gone. */
  async postAudience(authorId: number): Promise<{ username: string; followers: number[] } | null> {
    const rows = await this.deps.sequelize.query<{ username: string; follower_id: number | null }>(
      'SELECT u.username, f.follower_id FROM users u LEFT JOIN follows f ON f.following_id = u.id WHERE u.id = :id',
      { type: QueryTypes.SELECT, replacements: { id: authorId } },
    );
    if (!rows.length) return null;
    return { username: rows[0].username, followers: rows.flatMap((r) => (r.follower_id === null ? [] : [Number(r.follower_id)])) };
  }
}
