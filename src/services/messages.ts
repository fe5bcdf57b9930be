/** Direct messages: sending (idempotent per client id), reading, conversations. */
import type { ServiceDeps } from './deps.js';
import { findParty, partyNotFound, resolveParty, type Party, type PartyRef } from './parties.js';
import type { User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { DEFAULT_LIMIT, FingerprintedPage, keyset, toPage, type Page, type PageRequest } from './pagination.js';
import { presentDirectMessage } from '../presenters/message.js';
import { sqlOf } from '../db/connection.js';
import type { Dialect, Sql, SqlValue } from '../db/sql.js';
import type { ConversationRow, DirectMessageRow } from '../db/rows.js';
import { packedPage, selectList } from './reads.js';
import { insertMessage, type Inserted } from './messageInsert.js';

export interface SendDirectMessageInput {
  receiverId?: number;
  receiverUsername?: string;
  content: string;
  /** Client-chosen id: a retried send with the same one returns the first message. */
  clientId?: string;
}

/** The columns of a message of the actor's: the actor's own username is not read (see `named`). */
type OwnMessageRow = Omit<DirectMessageRow, 'senderUsername' | 'receiverUsername'>;
const OWN_MESSAGE_COLUMNS = {
  id: 'm.id',
  senderId: 'm.sender_id',
  receiverId: 'm.receiver_id',
  content: 'm.content',
  isRead: 'm.is_read',
  readAt: 'm.read_at',
  createdAt: 'm.created_at',
} satisfies Record<keyof OwnMessageRow, string>;
/** The actor's messages with the other side's name (`o`). */
const OWN_MESSAGE_COLUMNS_WITH_OTHER = { ...OWN_MESSAGE_COLUMNS, otherUsername: 'o.username' };
/** A message with both usernames, from `direct_messages` as `m`, its sender as `s` and receiver as `r`. */
const MESSAGE_COLUMNS = { ...OWN_MESSAGE_COLUMNS, senderUsername: 's.username', receiverUsername: 'r.username' } satisfies Record<keyof DirectMessageRow, string>;
const MESSAGES = `SELECT ${selectList(MESSAGE_COLUMNS)} FROM direct_messages m JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.receiver_id`;
/** The actor's messages (`m`) with the other side (`o`): one join instead of one per side. */
const FROM_OWN_MESSAGES = 'FROM direct_messages m JOIN users o ON o.id = CASE WHEN m.sender_id = ? THEN m.receiver_id ELSE m.sender_id END';
/** A conversation summary (`dm_conversations` as `c`) with its partner (`p`) and last message. */
const CONVERSATION_COLUMNS = {
  ...OWN_MESSAGE_COLUMNS,
  unreadCount: 'c.unread_count',
  partnerId: 'c.partner_id',
  partnerUsername: 'p.username',
  partnerFirstName: 'p.first_name',
  partnerLastName: 'p.last_name',
  partnerProfilePicture: 'p.profile_picture',
  partnerIsOnline: 'p.is_online',
  partnerLastSeen: 'p.last_seen',
} satisfies Record<Exclude<keyof ConversationRow, 'senderUsername' | 'receiverUsername'>, string>;

/**
 * A page of the actor's DMs or conversations, built by `build` from packed rows: their text, the
 * actor's name (named()) and the page's size (toPage()) are all its JSON is made of, so together
 * they fingerprint it.
 */
function ownPage<T>(actor: Pick<Party, 'username'>, page: PageRequest, text: string, build: () => Page<T>): Page<T> {
  return new FingerprintedPage([actor.username, String(page.limit), text], build);
}

/**
 * Both usernames of the actor's messages: one side is the actor, whose name the request already
 * has, the other is `other`'s. Reading them through two more joins made these pages' statements
 * cost about twice as much (PostgreSQL: 0.26 → 0.12 ms per conversations page).
 */
function named<T extends OwnMessageRow>(rows: T[], actor: Pick<Party, 'id' | 'username'>, other: (row: T) => string): (T & DirectMessageRow)[] {
  return rows.map((row) => {
    const sender = row.senderId === actor.id;
    return Object.assign(row, { senderUsername: sender ? actor.username : other(row), receiverUsername: sender ? other(row) : actor.username });
  });
}

/**
 * A message to a receiver that exists (messageInsert.ts), with the receiver's name. Client ids
 * are indexed only where given (migrations/20261206090000-direct-messages-client-id-when-given.ts).
 */
const INSERT_MESSAGE = `INSERT INTO direct_messages (sender_id, receiver_id, content, is_read, read_at, client_id, created_at)
  SELECT ?, r.id, ?, ?, ?, ?, ? FROM users r WHERE r.id = ?
  ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
  RETURNING id, (SELECT username FROM users WHERE id = receiver_id) AS "receiverUsername"`;

/**
 * The messages between two users, by their lower and higher id (bound in that order): the
 * expression of the pair's index (migrations/20261205120000-direct-messages-by-pair.ts).
 */
const pairOf = (dialect: Dialect): string => {
  const [low, high] = dialect === 'postgres' ? ['LEAST', 'GREATEST'] : ['MIN', 'MAX'];
  return `${low}(m.sender_id, m.receiver_id) = ? AND ${high}(m.sender_id, m.receiver_id) = ?`;
};

export class DirectMessageService {
  private readonly sql: Sql;
  private readonly pair: string;

  constructor(private readonly deps: ServiceDeps) {
    this.sql = sqlOf(deps.sequelize);
    this.pair = pairOf(this.sql.dialect);
  }

  private async load(id: number): Promise<DirectMessageRow | undefined> {
    return this.sql.read.get<DirectMessageRow>(`${MESSAGES} WHERE m.id = ?`, [id]);
  }

  /** A message as stored now (after a retried send, or a read mark another request made). */
  private async stored(id: number): Promise<DirectMessageRow> {
    const message = await this.load(id);
    // The row can only vanish if a participant was deleted meanwhile.
    if (!message) throw new NotFound();
    return message;
  }

  /**
   * Sends to a receiver named by id or username (a bad value of that field when nobody has it).
   * By id, the write itself finds the receiver and its name: a DM is the hottest write, and a
   * read before it was one more trip through the driver.
   */
  async send(actor: User, input: SendDirectMessageInput): Promise<DirectMessageRow> {
    if (input.receiverId === undefined && input.receiverUsername === undefined) throw ValidationError.nonField('Either receiver or receiver_username is required.');
    const ref: PartyRef = input.receiverId !== undefined ? { id: input.receiverId } : { username: input.receiverUsername as string };
    const field = ref.id !== undefined ? 'receiver' : 'receiver_username';
    const receiverId = ref.id ?? (await resolveParty(this.sql, ref, field)).id;
    if (receiverId === actor.id) throw ValidationError.nonField('You cannot send a message to yourself.');
    const sent = await this.store(actor, receiverId, input);
    // No such receiver (or the one named was deleted meanwhile).
    if (!sent) throw partyNotFound(ref, field);
    return 'row' in sent ? sent.row : this.stored(sent.existingId);
  }

  /**
   * Stores the message and logs `dm.created` for both sides in one write job; the row is built
   * from what was written (no read back). Null when there is no such receiver.
   */
  private store(actor: User, receiverId: number, input: SendDirectMessageInput): Promise<Inserted<DirectMessageRow>> {
    const { events } = this.deps;
    const createdAt = new Date();
    const clientId = input.clientId ?? null;
    return this.sql.write(async (tx) => {
      const params = [actor.id, input.content, false, null, clientId, createdAt, receiverId];
      const inserted = await insertMessage<{ id: number; receiverUsername: string }>(tx, 'direct_messages', INSERT_MESSAGE, params, { id: actor.id, clientId });
      if (!inserted || 'existingId' in inserted) return inserted;
      const message: DirectMessageRow = {
        id: Number(inserted.row.id),
        senderId: actor.id,
        senderUsername: actor.username,
        receiverId,
        receiverUsername: inserted.row.receiverUsername,
        content: input.content,
        isRead: false,
        readAt: null,
        createdAt,
      };
      await events.log(tx, 'dm.created', { message: presentDirectMessage(message) }, [actor.id, receiverId]);
      return { row: message };
    });
  }

  /** A message its sender or receiver may see; 404 for anyone else. */
  async get(actor: User, id: number): Promise<DirectMessageRow> {
    const message = await this.load(id);
    if (!message || (message.senderId !== actor.id && message.receiverId !== actor.id)) throw new NotFound();
    return message;
  }

  /** Every message the actor sent or received, newest first (a merge of the two indexed walks). */
  async list(actor: User, page: PageRequest): Promise<Page<DirectMessageRow>> {
    const side = (column: 'sender_id' | 'receiver_id') => this.walk(`${column} = ?`, [actor.id], page);
    const walks = [side('sender_id'), side('receiver_id')];
    const limit = this.sql.limit(page.limit + 1);
    // UNION ALL: membership ignores duplicates, and UNION's de-duplication sorted both walks again.
    const rest = `${FROM_OWN_MESSAGES} WHERE m.id IN (${walks.map((w) => w.sql).join(' UNION ALL ')}) ORDER BY m.id DESC ${limit.sql}`;
    return (await this.ownMessages(actor, rest, [actor.id, ...walks.flatMap((w) => w.params), ...limit.params], page)).page;
  }

  /** The newest messages (before the cursor) matching `where`, walked down its index. */
  private walk(where: string, params: SqlValue[], page: PageRequest): { sql: string; params: SqlValue[] } {
    const k = keyset(this.sql, page, 'id');
    return { sql: `SELECT id FROM (SELECT id FROM direct_messages WHERE ${where}${k.and}${k.order}) w`, params: [...params, ...k.params] };
  }

  /**
   * A page of the actor's messages from `rest` (`m`, with the other side's name from `o`), newest
   * first or as `arrange` puts it, and whether it is empty.
   */
  private async ownMessages(
    actor: User,
    rest: string,
    params: SqlValue[],
    page: PageRequest,
    arrange = (newestFirst: Page<DirectMessageRow>) => newestFirst,
  ): Promise<{ page: Page<DirectMessageRow>; empty: boolean }> {
    const { rows, text, empty } = await packedPage<OwnMessageRow & { otherUsername: string }>(this.sql, OWN_MESSAGE_COLUMNS_WITH_OTHER, rest, params);
    return { page: ownPage(actor, page, text, () => arrange(toPage(named(rows(), actor, (m) => m.otherUsername), page, (m) => m.id))), empty };
  }

  /**
   * One entry per other user, most recent first, paged by the id of each conversation's last
   * message: a page of the actor's summary rows (kept by triggers), with their messages and users.
   * The page's rows are picked by sorting the actor's summary rows (one per partner: no index
   * by recency, which cost every DM two pages written), then joined.
   */
  async conversations(actor: User, page: PageRequest = { limit: DEFAULT_LIMIT }): Promise<Page<ConversationRow>> {
    const k = keyset(this.sql, page, 'last_message_id');
    const { rows, text } = await packedPage<Omit<ConversationRow, 'senderUsername' | 'receiverUsername'>>(
      this.sql,
      CONVERSATION_COLUMNS,
      `FROM (SELECT partner_id, last_message_id, unread_count FROM dm_conversations WHERE user_id = ?${k.and}${k.order}) c
        JOIN users p ON p.id = c.partner_id JOIN direct_messages m ON m.id = c.last_message_id ORDER BY c.last_message_id DESC`,
      [actor.id, ...k.params],
    );
    // Partners' presence is in the rows.
    return ownPage(actor, page, text, () => toPage(named(rows(), actor, (c) => c.partnerUsername), page, (r) => r.id));
  }

  /**
   * The conversation with one user, oldest first within a page. Pages still go backwards in
   * time: the newest `limit` messages (or those before the cursor), then reversed.
   */
  async withUser(actor: User, other: { userId?: number; username?: string }, page: PageRequest): Promise<Page<DirectMessageRow>> {
    if (other.userId === undefined && other.username === undefined) throw ValidationError.nonField('Either user_id or username is required.');
    const userId = other.userId ?? (await findParty(this.sql, { username: other.username as string }))?.id;
    if (userId === undefined) throw new NotFound();
    const k = keyset(this.sql, page, 'm.id');
    const [low, high] = actor.id < userId ? [actor.id, userId] : [userId, actor.id];
    // One walk down the pair's index; the other side is one user, joined once.
    const { page: messages, empty } = await this.ownMessages(
      actor,
      `FROM direct_messages m JOIN users o ON o.id = ? WHERE ${this.pair}${k.and}${k.order}`,
      [userId, low, high, ...k.params],
      page,
      (p) => ({ items: p.items.reverse(), nextBefore: p.nextBefore }),
    );
    // Messages prove the user exists (a deleted user's go with them): only an empty page needs to ask.
    if (empty && !(await findParty(this.sql, { id: userId }))) throw new NotFound();
    return messages;
  }

  /** Only the receiver marks a message read (the sender gets 403, anyone else 404). Idempotent. */
  async markRead(actor: User, id: number): Promise<DirectMessageRow> {
    const message = await this.get(actor, id);
    if (message.receiverId !== actor.id) throw new PermissionDenied();
    if (message.isRead) return message;
    const { events } = this.deps;
    const readAt = new Date();
    // Conditional update: of two simultaneous calls only one changes the row and announces it.
    const announced = await this.sql.write(async (tx) => {
      const { changes } = await tx.run('UPDATE direct_messages SET is_read = ?, read_at = ? WHERE id = ? AND is_read = ?', [true, readAt, id, false]);
      if (!changes) return null;
      const read: DirectMessageRow = { ...message, isRead: true, readAt };
      await events.log(tx, 'dm.read', { message: presentDirectMessage(read) }, [message.senderId, message.receiverId]);
      return read;
    });
    return announced ?? this.stored(id);
  }
}
