/** Group chat messages: members only, idempotent per client id. */
import type { ServiceDeps } from './deps.js';
import { memberIds, type GroupService } from './groups.js';
import type { User } from '../models/index.js';
import { NotFound, PermissionDenied } from '../errors.js';
import { keyset, toPage, type Page, type PageRequest } from './pagination.js';
import { presentGroupMessage } from '../presenters/message.js';
import { sqlOf } from '../db/connection.js';
import type { Sql } from '../db/sql.js';
import type { GroupMessageRow } from '../db/rows.js';
import { insertMessage, type Inserted } from './messageInsert.js';

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

/** A message from a member: the SELECT is the membership (messageInsert.ts). */
const INSERT_MESSAGE = `INSERT INTO group_messages (group_id, sender_id, content, client_id, created_at)
  SELECT m.group_id, m.user_id, ?, ?, ? FROM group_members m WHERE m.group_id = ? AND m.user_id = ?
  ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING id`;

export class GroupMessageService {
  private readonly sql: Sql;

  constructor(private readonly deps: ServiceDeps, private readonly groups: GroupService) {
    this.sql = sqlOf(deps.sequelize);
  }

  /** Sends to a group the actor is in. */
  async send(actor: User, input: SendGroupMessageInput): Promise<GroupMessageRow> {
    let sent = await this.store(actor, input);
    if (!sent) {
      // Refused for want of a membership: 404 (or a bad field) without the group, 403 without
      // the membership; one who joined just now gets a second try.
      await this.groups.requireMember(actor, input.groupId, input.field);
      sent = await this.store(actor, input);
      if (!sent) throw new PermissionDenied();
    }
    return 'row' in sent ? sent.row : this.stored(sent.existingId);
  }

  /**
   * Stores the message and logs it for every member in one write job; the row is built from
   * what was written. Null when the actor is not a member of such a group.
   */
  private store(actor: User, input: SendGroupMessageInput): Promise<Inserted<GroupMessageRow>> {
    const { events } = this.deps;
    const createdAt = new Date();
    const clientId = input.clientId ?? null;
    return this.sql.write(async (tx) => {
      const inserted = await insertMessage<{ id: number }>(tx, 'group_messages', INSERT_MESSAGE, [input.content, clientId, createdAt, input.groupId, actor.id], {
        id: actor.id,
        clientId,
      });
      if (!inserted || 'existingId' in inserted) return inserted;
      const message: GroupMessageRow = { id: Number(inserted.row.id), groupId: input.groupId, senderId: actor.id, senderUsername: actor.username, content: input.content, createdAt };
      // Members as of this transaction: whoever joined or left meanwhile is counted consistently.
      await events.log(tx, 'group_message.created', { message: presentGroupMessage(message) }, await memberIds(tx, input.groupId));
      return { row: message };
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
