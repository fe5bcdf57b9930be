/** Group chat messages: members only, idempotent per client id. */
import { Op, literal, type Transaction } from 'sequelize';
import type { ServiceDeps } from './deps.js';
import type { GroupService } from './groups.js';
import { GroupMessage, type User } from '../models/index.js';
import { NotFound, ValidationError } from '../errors.js';
import { pageQuery, toPage, type Page, type PageRequest } from './pagination.js';
import { presentGroupMessage } from '../presenters/message.js';
import { createOnce, includeUser } from './messages.js';
import type { GroupMessagePayload } from '../events/types.js';

export interface SendGroupMessageInput {
  groupId: number;
  content: string;
  /** Client-chosen id: a retried send with the same one returns the first message. */
  clientId?: string;
}

export class GroupMessageService {
  constructor(private readonly deps: ServiceDeps, private readonly groups: GroupService) {}

  async send(actor: User, input: SendGroupMessageInput): Promise<GroupMessagePayload> {
    await this.groups.requireMember(actor, input.groupId);
    const { events } = this.deps;
    const id = await createOnce(GroupMessage, actor.id, input.clientId, () =>
      events.transaction(async (transaction) => {
        const row = await GroupMessage.create({ groupId: input.groupId, senderId: actor.id, content: input.content, clientId: input.clientId ?? null }, { transaction });
        await events.emit('group_message.created', { message: await this.present(row.id, transaction) }, transaction);
        return row;
      }),
    );
    return this.present(id);
  }

  /** The message as events and responses show it, read in `transaction`. */
  private async present(id: number, transaction?: Transaction): Promise<GroupMessagePayload> {
    const message = await GroupMessage.findByPk(id, { include: [includeUser('sender')], transaction });
    // The row can only vanish if the group or the sender was deleted meanwhile.
    if (!message) throw new NotFound();
    return presentGroupMessage(message);
  }

  /**
   * As `send`, for a group named in a request body: a group that does not exist is a bad
   * field value (400, as DRF reports an unknown primary key), not a missing page.
   */
  async sendToField(actor: User, input: SendGroupMessageInput, field: string): Promise<GroupMessagePayload> {
    try {
      return await this.send(actor, input);
    } catch (err) {
      if (err instanceof NotFound) throw ValidationError.field(field, `Invalid pk "${input.groupId}" - object does not exist.`);
      throw err;
    }
  }

  /** One group's messages, newest first; members only. */
  async list(actor: User, groupId: number, page: PageRequest): Promise<Page<GroupMessage>> {
    await this.groups.requireMember(actor, groupId);
    const q = pageQuery(page);
    const rows = await GroupMessage.findAll({ ...q, where: { ...q.where, groupId }, include: [includeUser('sender')] });
    return toPage(rows, page, (m) => m.id);
  }

  /** Messages of every group the actor belongs to, newest first. */
  async listMine(actor: User, page: PageRequest): Promise<Page<GroupMessage>> {
    const q = pageQuery(page);
    const rows = await GroupMessage.findAll({
      ...q,
      where: { ...q.where, groupId: { [Op.in]: literal(`(SELECT group_id FROM group_members WHERE user_id = ${Number(actor.id)})`) } },
      include: [includeUser('sender')],
    });
    return toPage(rows, page, (m) => m.id);
  }
}
