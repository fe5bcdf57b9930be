/** Accounts, profiles, follows and presence flags. */
import { Op, QueryTypes, literal, type Transaction } from 'sequelize';
import type { ServiceDeps } from './deps.js';
import { Follow, GroupMember, Group, Post, User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { burnPasswordCheck, hashPassword, passwordProblems, verifyPassword } from './passwords.js';
import type { TokenService } from './tokens.js';
import { keyset, toPage, type Page, type PageRequest } from './pagination.js';
import { sqlOf, transaction } from '../db/connection.js';
import type { Sql, SqlValue } from '../db/sql.js';
import { FOLLOWING, USER_COLUMNS, packedRows, viewerMarks, type Columns } from './reads.js';
import type { AccountRow, UserRow } from '../db/rows.js';
import type { Upload } from '../media/store.js';
import { checkedWrite } from './references.js';

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

/** Which users a page lists: FROM/JOIN text after `users u`, conditions, their parameters, and the id column it walks. */
interface UserSelection {
  join?: string;
  where: string[];
  params: SqlValue[];
  column?: string;
}

const ACCOUNT_COLUMNS = {
  id: 'u.id',
  username: 'u.username',
  email: 'u.email',
  firstName: 'u.first_name',
  lastName: 'u.last_name',
  isAdmin: 'u.is_admin',
  isBanned: 'u.is_banned',
  isOnline: 'u.is_online',
  lastSeen: 'u.last_seen',
  createdAt: 'u.created_at',
} satisfies Record<keyof AccountRow, string>;

/**
 * One user, packed like a page (reads.ts): on SQLite a profile asked again before anything was
 * committed is answered without a trip to a reader thread.
 */
const USER_BY_ID = 'FROM users u WHERE u.id = ?';

export class UserService {
  private readonly sql: Sql;

  constructor(private readonly deps: ServiceDeps, private readonly tokens: TokenService) {
    this.sql = sqlOf(deps.sequelize);
  }

  /** Sets isFollowing on every row from one query (nobody follows themselves: the viewer's own row needs none). */
  async markFollowing<R extends UserRow>(rows: R[], viewerId: number | null): Promise<R[]> {
    const followed = await viewerMarks(this.sql, FOLLOWING, viewerId, rows.flatMap((u) => (u.id === viewerId ? [] : [u.id])));
    for (const row of rows) row.isFollowing = followed.has(row.id);
    return rows;
  }

  async get(id: number, viewerId: number | null = null): Promise<UserRow> {
    const [user] = await packedRows<UserRow>(this.sql, USER_COLUMNS, USER_BY_ID, [id]);
    if (!user) throw new NotFound();
    await this.markFollowing([user], viewerId);
    return user;
  }

  /** The model, for the write paths. */
  private async model(id: number): Promise<User> {
    const user = await User.findByPk(id);
    if (!user) throw new NotFound();
    return user;
  }

  async findByUsername(username: string): Promise<User | null> {
    return User.findOne({ where: { usernameLower: username.toLowerCase() } });
  }

  /** One page of users, newest first, with `columns` (every selection walks a column equal to u.id). */
  private async select<R extends { id: number }>(columns: Columns, { join = '', where, params, column = 'u.id' }: UserSelection, page: PageRequest): Promise<R[]> {
    const k = keyset(this.sql, page, column);
    const conditions = where.length ? where.join(' AND ') : '1 = 1';
    return packedRows<R>(this.sql, columns, `FROM users u${join} WHERE ${conditions}${k.and}${k.order}`, [...params, ...k.params]);
  }

  /** Users whose username, first or last name contains `search` (case-insensitive), or all. */
  private matching(search?: string): UserSelection {
    if (!search) return { where: [], params: [] };
    // instr/strpos rather than LIKE: the user's text is matched literally, % and _ included.
    const position = this.sql.dialect === 'postgres' ? 'strpos' : 'instr';
    const needle = search.toLowerCase();
    const match = ['u.username_lower', 'u.first_name', 'u.last_name'].map((c) => `${position}(lower(${c}), ?) > 0`).join(' OR ');
    return { where: [`(${match})`], params: [needle, needle, needle] };
  }

  private async usersPage(selection: UserSelection, viewerId: number | null, page: PageRequest): Promise<Page<UserRow>> {
    const rows = await this.select<UserRow>(USER_COLUMNS, selection, page);
    return toPage(await this.markFollowing(rows, viewerId), page, (u) => u.id);
  }

  list(viewerId: number | null, page: PageRequest, search?: string): Promise<Page<UserRow>> {
    return this.usersPage(this.matching(search), viewerId, page);
  }

  /** Accounts as `jvai admin users list` shows them (flags an API client never sees). */
  async accounts(page: PageRequest, search?: string): Promise<Page<AccountRow>> {
    return toPage(await this.select<AccountRow>(ACCOUNT_COLUMNS, this.matching(search), page), page, (u) => u.id);
  }

  online(viewerId: number, page: PageRequest): Promise<Page<UserRow>> {
    return this.usersPage({ where: ['u.is_online = ?'], params: [true] }, viewerId, page);
  }

  followers(userId: number, viewerId: number, page: PageRequest): Promise<Page<UserRow>> {
    return this.related(userId, viewerId, page, { join: ' JOIN follows f ON f.follower_id = u.id', where: ['f.following_id = ?'], params: [userId], column: 'f.follower_id' });
  }

  following(userId: number, viewerId: number, page: PageRequest): Promise<Page<UserRow>> {
    return this.related(userId, viewerId, page, { join: ' JOIN follows f ON f.following_id = u.id', where: ['f.follower_id = ?'], params: [userId], column: 'f.following_id' });
  }

  /** A page of related users, after checking (alongside) that `userId` exists. */
  private async related(userId: number, viewerId: number, page: PageRequest, selection: UserSelection): Promise<Page<UserRow>> {
    const [exists, users] = await Promise.all([this.sql.read.get('SELECT 1 AS one FROM users WHERE id = ?', [userId]), this.usersPage(selection, viewerId, page)]);
    if (!exists) throw new NotFound();
    return users;
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
    const problems = await passwordProblems(input.password, input);
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

  async update(actor: User, id: number, input: ProfileInput, picture?: Upload): Promise<UserRow> {
    const user = await this.model(id);
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
    this.tokens.forgetUser(id);
    await this.deps.bus.publish('user.updated', { userId: id });
    return this.get(id, actor.id);
  }

  async changePassword(actor: User, oldPassword: string, newPassword: string): Promise<void> {
    if (!(await verifyPassword(actor.passwordHash, oldPassword))) throw ValidationError.field('old_password', 'Your old password was entered incorrectly. Please enter it again.');
    const problems = await passwordProblems(newPassword, actor);
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
    const user = await this.model(id);
    if (actor) this.assertOwner(actor, id);
    // First, so no socket or token of the account keeps working while it is being deleted.
    await this.tokens.revokeAll(id);
    const files = await transaction(this.deps.sequelize, async (transaction: Transaction) => {
      const posts = await Post.findAll({ where: { authorId: id, image: { [Op.ne]: null } }, attributes: ['image'], transaction });
      const groups = await Group.findAll({ where: { creatorId: id, image: { [Op.ne]: null } }, attributes: ['image'], transaction });
      await user.destroy({ transaction });
      return [user.profilePicture, ...posts.map((p) => p.image), ...groups.map((g) => g.image)];
    });
    await this.deps.media.remove(...files);
  }

  /** An administrator's reset: the same password rules as registration, then every session ends. */
  async resetPassword(user: User, password: string): Promise<void> {
    const problems = await passwordProblems(password, user);
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

  async follow(actor: User, targetId: number): Promise<UserRow> {
    return checkedWrite(
      () => this.get(targetId),
      async (target) => {
        if (target.id === actor.id) throw ValidationError.nonField('You cannot follow yourself.');
        // INSERT … ON CONFLICT DO NOTHING: following twice (even concurrently) is a no-op.
        await Follow.bulkCreate([{ followerId: actor.id, followingId: target.id }], { ignoreDuplicates: true });
        return target;
      },
    );
  }

  async unfollow(actor: User, targetId: number): Promise<UserRow> {
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

  /** A user's username, or null once they are gone. */
  async usernameOf(userId: number): Promise<string | null> {
    return (await User.findByPk(userId, { attributes: ['username'] }))?.username ?? null;
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
    const [first] = rows;
    if (!first) return null;
    return { username: first.username, followers: rows.flatMap((r) => (r.follower_id === null ? [] : [Number(r.follower_id)])) };
  }
}
