/** The groups we are in: their entries (unread counts) and the group chats shown. */
import type { Group, GroupMessage } from '../client/types.js';
import type { ChatContext } from './context.js';
import { Histories, messageLine, type ChatLine, type Entry } from './entries.js';

const GROUPS = 200;
const HISTORY = 50;

export class GroupChats {
  private groups: (Group & { unread: number })[] = [];
  private readonly messages = new Histories<GroupMessage>();

  constructor(private readonly chat: ChatContext) {}

  /** The group list from REST (after joining one elsewhere too); unread counts are kept. */
  async reload(): Promise<void> {
    const unread = new Map(this.groups.map((g) => [g.id, g.unread]));
    this.groups = (await this.chat.api.myGroups(GROUPS)).map((g) => ({ ...g, unread: unread.get(g.id) ?? 0 }));
    this.chat.changed();
  }

  /** Forgets the histories: they are read again when shown. */
  forgetHistories(): void {
    this.messages.clear();
  }

  has(groupId: number): boolean {
    return this.messages.has(groupId);
  }

  async load(groupId: number): Promise<void> {
    this.messages.loaded(groupId, (await this.chat.api.groupMessages(groupId, HISTORY)).reverse());
  }

  /** The group is shown: nothing in it is unread any more. */
  opened(groupId: number): void {
    const group = this.groups.find((g) => g.id === groupId);
    if (group) group.unread = 0;
  }

  received(m: GroupMessage): void {
    const known = this.messages.update(m.group, m);
    if (m.sender !== this.chat.me) {
      const group = this.groups.find((g) => g.id === m.group);
      if (group && !known && this.chat.open !== `group:${m.group}`) group.unread++;
    }
    this.chat.changed();
  }

  /** We left the group, or it was deleted. */
  drop(groupId: number): void {
    this.groups = this.groups.filter((g) => g.id !== groupId);
    this.messages.delete(groupId);
  }

  entries(): Entry[] {
    return this.groups.map((g): Entry => ({ key: `group:${g.id}`, label: `# ${g.name}`, unread: g.unread }));
  }

  lines(groupId: number): ChatLine[] {
    return this.messages.get(groupId).map((m) => messageLine('g', m, this.chat.me));
  }
}
