/** Group chat messages: members only, idempotent per client id. */
import type { ServiceDeps } from './deps.js';
import type { GroupService } from './groups.js';
import type { User } from '../models/index.js';
import { NotFound } from '../errors.js';
import { keyset, toPage, type Page, type PageRequest } from './pagination.js';
import { presentGroupMessage } from '../presenters/message.js';
import { sqlOf } from '../db/connection.js';
import type { Sql, SqlValue, WriteTx } from '../db/sql.js';
import type { GroupMessageRow } from '../db/rows.js';
import { checkedWrite } from './references.js';

export interface SendGroupMessageInput {
  groupId: number;
  content: string;
  /** Client-chosen id: a retried send with the same one returns the first message. */
  clientId?: string;
  /** The request field that named the group, when one did: an unknown group is then a bad value of it (400), not a missing page. */
  field?: string;
}

const MESSAGES = `SELECT m.id, m.group_id AS "groupId", m.sender_id AS "senderId", s.username AS "senderUsername", m.content, m.created_at AS "createdAt"
  FROM group_messages m JOIN users s ON s.id = m.sender_id`;

/**
 * Inserts a message row unless this sender already sent one with this client id; returns the
 * new id, or the existing one's with `existing`. ON CONFLICT settles two simultaneous retries.
 */
async function insertOnce(
  tx: WriteTx,
  columns: Record<string, SqlValue>,
  senderId: number,
  clientId: string | undefined,
): Promise<{ id: number; existing: boolean }> {
  const names = Object.keys(columns);
  const inserted = await tx.get<{ id: number }>(
    `INSERT INTO group_messages (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})
     ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING id`,
    Object.values(columns),
  );
  if (inserted) return { id: Number(inserted.id), existing: false };
  const found = await tx.get<{ id: number }>('SELECT id FROM group_messages WHERE sender_id = ? AND client_id = ?', [senderId, clientId ?? null]);
  if (!found) throw new Error('group_messages: insert neither happened nor conflicted');
  return { id: Number(found.id), existing: true };
}

export class GroupMessageService {
  private readonly sql: Sql;

  constructor(private readonly deps: ServiceDeps, private readonly groups: GroupService) {
    this.sql = sqlOf(deps.sequelize);
  }

  /** Sends to a group the actor is in. */
  async send(actor: User, input: SendGroupMessageInput): Promise<GroupMessageRow> {
    const member = () => this.groups.requireMember(actor, input.groupId, input.field);
    const sent = await checkedWrite(member, () => this.store(actor, input));
    return sent.message ?? this.stored(sent.id);
  }

  /**
   * Stores the message and logs it for every member in one write job; the row is built from what was written.
   * `message` is null when the client id was used before (`id` is then the first message's).
   */
  private store(actor: User, input: SendGroupMessageInput): Promise<{ id: number; message: GroupMessageRow | null }> {
    const { events } = this.deps;
    const createdAt = new Date();
    return this.sql.write(async (tx) => {
      const row = { group_id: input.groupId, sender_id: actor.id, content: input.content, client_id: input.clientId ?? null, created_at: createdAt };
      const { id, existing } = await insertOnce(tx, row, actor.id, input.clientId);
      if (existing) return { id, message: null };
      const message: GroupMessageRow = { id, groupId: input.groupId, senderId: actor.id, senderUsername: actor.username, content: input.content, createdAt };
      // Members as of this transaction: whoever joined or left meanwhile is counted consistently.
      const members = await tx.all<{ userId: number }>('SELECT user_id AS "userId" FROM group_members WHERE group_id = ?', [input.groupId]);
      await events.log(tx, 'group_message.created', { message: presentGroupMessage(message) }, members.map((m) => Number(m.userId)));
      return { id, message };
    });
  }

  /** A message as stored (after a retried send). */
  private async stored(id: number): Promise<GroupMessageRow> {
    const message = await this.sql.read.get<GroupMessageRow>(`${MESSAGES} WHERE m.id = ?`, [id]);
    // The row can only vanish if the group or the sender was deleted meanwhile.
    if (!message) throw new NotFound();
    return message;
  }

  /** One group's messages, newest first; members only. */
  async list(actor: User, groupId: number, page: PageRequest): Promise<Page<GroupMessageRow>> {
    await this.groups.requireMember(actor, groupId);
    const k = keyset(this.sql, page, 'm.id');
    const rows = await this.sql.read.all<GroupMessageRow>(`${MESSAGES} WHERE m.group_id = ?${k.and}${k.order}`, [groupId, ...k.params]);
    return toPage(rows, page, (m) => m.id);
  }

  /** Messages of every group the actor belongs to, newest first. */
  async listMine(actor: User, page: PageRequest): Promise<Page<GroupMessageRow>> {
    const k = keyset(this.sql, page, 'm.id');
    const rows = await this.sql.read.all<GroupMessageRow>(`${MESSAGES} WHERE m.group_id IN (SELECT group_id FROM group_members WHERE user_id = ?)${k.and}${k.order}`, [
      actor.id,
      ...k.params,
    ]);
    return toPage(rows, page, (m) => m.id);
  }
}
