/** Direct messages: sending (idempotent per client id), reading, conversations. */
import { Op, QueryTypes, UniqueConstraintError, type IncludeOptions, type ModelStatic, type Transaction, type WhereOptions } from 'sequelize';
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
 * returns the winner's row. `create` runs its own transaction (with the event it logs), so the
 * loser's is rolled back whole and leaves no second log row.
 */
export async function createOnce(
  model: ModelStatic<DirectMessage> | ModelStatic<GroupMessage>,
  senderId: number,
  clientId: string | undefined,
  create: () => Promise<{ id: number }>,
): Promise<number> {
  const find = () => (model as ModelStatic<DirectMessage>).findOne({ where: { senderId, clientId } as WhereOptions, attributes: ['id'] });
  if (clientId !== undefined) {
    const existing = await find();
    if (existing) return existing.id;
  }
  try {
    return (await create()).id;
  } catch (err) {
    if (clientId === undefined || !(err instanceof UniqueConstraintError)) throw err;
    const winner = await find();
    if (!winner) throw err;
    return winner.id;
  }
}

interface ConversationRow {
  partnerId: number;
  lastId: number;
  unread: number | string;
}

export class DirectMessageService {
  constructor(private readonly deps: ServiceDeps, private readonly users: UserService) {}

  private async load(id: number, transaction?: Transaction): Promise<DirectMessage | null> {
    return DirectMessage.findByPk(id, { include: parties(), transaction });
  }

  /** The message as events and responses show it, read in `transaction`. */
  private async present(id: number, transaction?: Transaction): Promise<DirectMessagePayload> {
    const message = await this.load(id, transaction);
    // The row can only vanish if a participant was deleted meanwhile.
    if (!message) throw new NotFound();
    return presentDirectMessage(message);
  }

  async send(actor: User, input: SendDirectMessageInput): Promise<DirectMessagePayload> {
    if (input.receiverId === undefined && input.receiverUsername === undefined) throw ValidationError.nonField('Either receiver or receiver_username is required.');
    const receiver =
      input.receiverId !== undefined
        ? await this.users.resolve({ id: input.receiverId }, 'receiver')
        : await this.users.resolve({ username: input.receiverUsername }, 'receiver_username');
    if (receiver.id === actor.id) throw ValidationError.nonField('You cannot send a message to yourself.');
    const { events } = this.deps;
    const id = await createOnce(DirectMessage, actor.id, input.clientId, () =>
      events.transaction(async (transaction) => {
        const row = await DirectMessage.create({ senderId: actor.id, receiverId: receiver.id, content: input.content, clientId: input.clientId ?? null }, { transaction });
        await events.emit('dm.created', { message: await this.present(row.id, transaction) }, transaction);
        return row;
      }),
    );
    return this.present(id);
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
    const { events } = this.deps;
    // Conditional update: of two simultaneous calls only one changes the row and announces it.
    const announced = await events.transaction(async (transaction) => {
      const [changed] = await DirectMessage.update({ isRead: true, readAt: new Date() }, { where: { id, isRead: false }, transaction });
      if (!changed) return null;
      const payload = await this.present(id, transaction);
      await events.emit('dm.read', { message: payload }, transaction);
      return payload;
    });
    return announced ?? this.present(id);
  }
}
