/** The people we talk with: their entries (online, unread), the conversations shown, read marks. */
import type { Conversation, DirectMessage, NestedUser, User } from '../client/types.js';
import type { ChatContext } from './context.js';
import { Histories, messageLine, parseKey, type ChatLine, type Entry } from './entries.js';

interface DmPerson {
  user: NestedUser;
  online: boolean;
  unread: number;
  lastAt: string;
}

const CONVERSATIONS = 200;
const HISTORY = 50;

const personOf = (c: Conversation): DmPerson => ({
  user: { id: c.user.id, username: c.user.username, full_name: c.user.full_name },
  online: c.user.is_online,
  unread: c.unread_count,
  lastAt: c.last_message.created_at,
});

export class DirectMessages {
  private people = new Map<number, DmPerson>();
  private readonly messages = new Histories<DirectMessage>();

  constructor(private readonly chat: ChatContext) {}

  /** The conversation list from REST; the histories are read again when shown. */
  async reload(): Promise<void> {
    const conversations = await this.chat.api.conversations(CONVERSATIONS);
    this.people = new Map(conversations.map((c) => [c.user.id, personOf(c)]));
    this.messages.clear();
  }

  has(userId: number): boolean {
    return this.messages.has(userId);
  }

  async load(userId: number): Promise<void> {
    this.messages.loaded(userId, await this.chat.api.conversationWith({ id: userId }, HISTORY));
  }

  /** Someone to write to, listed even before the first message. */
  add(user: User): void {
    if (this.people.has(user.id)) return;
    this.people.set(user.id, { user: { id: user.id, username: user.username, full_name: user.full_name }, online: user.is_online, unread: 0, lastAt: new Date().toISOString() });
  }

  /** A message sent or received (here or on another device). */
  received(m: DirectMessage): void {
    const mine = m.sender === this.chat.me;
    const otherId = mine ? m.receiver : m.sender;
    let person = this.people.get(otherId);
    if (!person) {
      person = { user: { id: otherId, username: mine ? m.receiver_username : m.sender_username, full_name: '' }, online: !mine, unread: 0, lastAt: m.created_at };
      this.people.set(otherId, person);
    }
    const shown = this.messages.has(otherId);
    const known = this.messages.update(otherId, m);
    if (m.created_at > person.lastAt) person.lastAt = m.created_at;
    if (!mine && !m.is_read && !known) {
      if (this.chat.open === `dm:${otherId}` && shown) this.markShownRead();
      else person.unread++;
    }
    this.chat.changed();
  }

  /** A message marked read, by its receiver. */
  read(m: DirectMessage): void {
    const otherId = m.sender === this.chat.me ? m.receiver : m.sender;
    const before = this.messages.find(otherId, m.id);
    this.messages.update(otherId, m);
    // Read on another device: one fewer unread here.
    const person = this.people.get(otherId);
    if (person && m.receiver === this.chat.me && !before?.is_read && person.unread > 0) person.unread--;
    this.chat.changed();
  }

  online(userId: number, isOnline: boolean): void {
    const person = this.people.get(userId);
    if (person) person.online = isOnline;
    this.chat.changed();
  }

  /** Marks the open conversation's received, unread messages read (each sender gets a receipt). */
  markShownRead(): void {
    const [kind, id] = parseKey(this.chat.open);
    if (kind !== 'dm') return;
    const unread = this.messages.get(id).filter((m) => m.receiver === this.chat.me && !m.is_read);
    const person = this.people.get(id);
    if (person) person.unread = 0;
    for (const m of unread) {
      m.is_read = true;
      void this.chat.realtime.markRead(m.id).catch((err: Error) => this.chat.tell(`could not mark #${m.id} read: ${err.message}`));
    }
  }

  /** The people, most recent conversation first. */
  entries(): Entry[] {
    const people = [...this.people.values()].sort((a, b) => (a.lastAt < b.lastAt ? 1 : a.lastAt > b.lastAt ? -1 : 0));
    return people.map((p): Entry => ({ key: `dm:${p.user.id}`, label: p.user.username, unread: p.unread, online: p.online }));
  }

  lines(userId: number): ChatLine[] {
    return this.messages.get(userId).map((m) => messageLine('m', m, this.chat.me, m.is_read));
  }
}
