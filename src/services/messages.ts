/** Direct messages: sending (idempotent per client id), reading, conversations. */
import { Op, QueryTypes, UniqueConstraintError, type IncludeOptions, type ModelStatic, type WhereOptions } from 'sequelize';
import type { ServiceDeps } from './deps.js';
import type { UserService } from './users.js';
import { DirectMessage, GroupMessage, User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { DEFAULT_LIMIT, pageQuery, toPage, type Page, type PageRequest } from './pagination.js';
import { party, presentDirectMessage, type Conversation } from '../presenters/message.js';
import type { DirectMessagePayload } from '../events/types.js';

export interface SendDirectMessageInput {
  receiverId?: number;
  receiverUsername?: string;
  content: string;
  /** Client-chosen id: a retried send with the same one returns the first message. */
  clientId?: string;
}

/** What message presenters read of a sender/receiver (and conversations of the other user). */
const USER_FIELDS = ['id', 'username', 'firstName', 'lastName', 'profilePicture', 'isOnline', 'lastSeen'];
export const includeUser = (as: 'sender' | 'receiver'): IncludeOptions => ({ model: User, as, attributes: USER_FIELDS });
// A fresh array per query: Sequelize annotates include objects while it plans a query.
const parties = (): IncludeOptions[] => [includeUser('sender'), includeUser('receiver')];

/**
 * Creates a message at most once per (sender, clientId) and returns its id. A retry finds the
 * row the first try made; two simultaneous tries race to the unique index and the loser
 * returns the winner's row.
 */
export async function createOnce(
  model: ModelStatic<DirectMessage> | ModelStatic<GroupMessage>,
  senderId: number,
  clientId: string | undefined,
  create: () => Promise<{ id: number }>,
): Promise<{ id: number; created: boolean }> {
  const find = () => (model as ModelStatic<DirectMessage>).findOne({ where: { senderId, clientId } as WhereOptions, attributes: ['id'] });
  if (clientId !== undefined) {
    const existing = await find();
    if (existing) return { id: existing.id, created: false };
  }
  try {
    return { id: (await create()).id, created: true };
  } catch (err) {
    if (clientId === undefined || !(err instanceof UniqueConstraintError)) throw err;
    const winner = await find();
    if (!winner) throw err;
    return { id: winner.id, created: false };
  }
}

interface ConversationRow {
  partnerId: number;
  lastId: number;
  unread: number | string;
}

export class DirectMessageService {
  constructor(private readonly deps: ServiceDeps, private readonly users: UserService) {}

  private async load(id: number): Promise<DirectMessage | null> {
    return DirectMessage.findByPk(id, { include: parties() });
  }

  async send(actor: User, input: SendDirectMessageInput): Promise<DirectMessagePayload> {
    if (input.receiverId === undefined && input.receiverUsername === undefined) throw ValidationError.nonField('Either receiver or receiver_username is required.');
    const receiver =
      input.receiverId !== undefined
        ? await this.users.resolve({ id: input.receiverId }, 'receiver')
        : await this.users.resolve({ username: input.receiverUsername }, 'receiver_username');
    if (receiver.id === actor.id) throw ValidationError.nonField('You cannot send a message to yourself.');
    const { id, created } = await createOnce(DirectMessage, actor.id, input.clientId, () =>
      DirectMessage.create({ senderId: actor.id, receiverId: receiver.id, content: input.content, clientId: input.clientId ?? null }),
    );
    const message = await this.load(id);
    // The row can only vanish if a participant was deleted meanwhile.
    if (!message) throw new NotFound();
    const payload = presentDirectMessage(message);
    if (created) await this.deps.bus.publish('dm.created', { message: payload });
    return payload;
  }

  /** A message its sender or receiver may see; 404 for anyone else. */
  async get(actor: User, id: number): Promise<DirectMessage> {
    const message = await this.load(id);
    if (!message || (message.senderId !== actor.id && message.receiverId !== actor.id)) throw new NotFound();
    return message;
  }

  /** Every message the actor sent or received, newest first. */
  async list(actor: User, page: PageRequest): Promise<Page<DirectMessage>> {
    const q = pageQuery(page);
    const rows = await DirectMessage.findAll({
      ...q,
      where: { ...q.where, [Op.or]: [{ senderId: actor.id }, { receiverId: actor.id }] },
      include: parties(),
    });
    return toPage(rows, page, (m) => m.id);
  }

  /**
   * One entry per other user, most recent first, paged by the id of each conversation's last
   * message. Two queries per page: the grouped summary, then the last messages with their users.
   */
  async conversations(actor: User, page: PageRequest = { limit: DEFAULT_LIMIT }): Promise<Page<Conversation>> {
    const rows = await this.deps.sequelize.query<ConversationRow>(
      `SELECT t.partner_id AS "partnerId", MAX(t.id) AS "lastId",
              SUM(CASE WHEN t.receiver_id = :me AND NOT t.is_read THEN 1 ELSE 0 END) AS "unread"
         FROM (SELECT id, receiver_id, is_read, CASE WHEN sender_id = :me THEN receiver_id ELSE sender_id END AS partner_id
                 FROM direct_messages WHERE sender_id = :me OR receiver_id = :me) t
        GROUP BY t.partner_id
        ${page.before ? 'HAVING MAX(t.id) < :before' : ''}
        ORDER BY "lastId" DESC
        LIMIT :limit`,
      { type: QueryTypes.SELECT, replacements: { me: actor.id, before: page.before ?? null, limit: page.limit + 1 } },
    );
    const summary = toPage(rows, page, (r) => Number(r.lastId));
    const messages = await DirectMessage.findAll({
      where: { id: summary.items.map((r) => Number(r.lastId)) },
      include: parties(),
    });
    const byId = new Map(messages.map((m) => [m.id, m]));
    const items: Conversation[] = [];
    for (const row of summary.items) {
      const last = byId.get(Number(row.lastId));
      // Deleted between the two queries: skip rather than fail the whole list.
      if (!last) continue;
      items.push({ user: party(last, last.senderId === actor.id ? 'receiver' : 'sender'), lastMessage: last, unreadCount: Number(row.unread) });
    }
    return { items, nextBefore: summary.nextBefore };
  }

  /**
   * The conversation with one user, oldest first within a page. Pages still go backwards in
   * time: the newest `limit` messages (or those before the cursor), then reversed.
   */
  async withUser(actor: User, other: { userId?: number; username?: string }, page: PageRequest): Promise<Page<DirectMessage>> {
    if (other.userId === undefined && other.username === undefined) throw ValidationError.nonField('Either user_id or username is required.');
    const user = other.userId !== undefined ? await User.findByPk(other.userId, { attributes: ['id'] }) : await this.users.findByUsername(other.username as string);
    if (!user) throw new NotFound();
    const q = pageQuery(page);
    const rows = await DirectMessage.findAll({
      ...q,
      where: {
        ...q.where,
        [Op.or]: [
          { senderId: actor.id, receiverId: user.id },
          { senderId: user.id, receiverId: actor.id },
        ],
      },
      include: parties(),
    });
    const newestFirst = toPage(rows, page, (m) => m.id);
    return { items: newestFirst.items.reverse(), nextBefore: newestFirst.nextBefore };
  }

  /** Only the receiver marks a message read (the sender gets 403, anyone else 404). Idempotent. */
  async markRead(actor: User, id: number): Promise<DirectMessagePayload> {
    const message = await this.get(actor, id);
    if (message.receiverId !== actor.id) throw new PermissionDenied();
    if (message.isRead) return presentDirectMessage(message);
    const readAt = new Date();
    // Conditional update: of two simultaneous calls only one changes the row and announces it.
    const [changed] = await DirectMessage.update({ isRead: true, readAt }, { where: { id, isRead: false } });
    const current = await this.get(actor, id);
    const payload = presentDirectMessage(current);
    if (changed) await this.deps.bus.publish('dm.read', { message: payload });
    return payload;
  }
}
