/** What the chat model's parts share and the view draws: entry keys, list entries, lines, and the message histories behind them. */

export type EntryKey = `dm:${number}` | `group:${number}` | 'feed';

export interface Entry {
  key: EntryKey;
  label: string;
  unread: number;
  /** Online state for a person; undefined for groups and the feed. */
  online?: boolean;
}

/** A line of a conversation: a message, maybe still on its way. */
export interface ChatLine {
  key: string;
  mine: boolean;
  sender: string;
  content: string;
  createdAt: string;
  /** Own messages: sending → sent (acknowledged) → read (direct messages only); `failed` with the reason. */
  mark: 'sending' | 'sent' | 'read' | 'failed' | null;
  error?: string;
}

export function parseKey(key: EntryKey): ['dm' | 'group', number] | ['feed', 0] {
  if (key === 'feed') return ['feed', 0];
  const [kind, id] = key.split(':');
  return [kind as 'dm' | 'group', Number(id)];
}

/** Adds or replaces items by id, keeping them oldest first. */
export function mergeById<M extends { id: number }>(list: M[], incoming: M[]): M[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** What direct and group messages have in common. */
interface Message {
  id: number;
  sender: number;
  sender_username: string;
  content: string;
  created_at: string;
}

/** A message as a line; `read` marks own direct messages the other side has read. */
export function messageLine(prefix: 'm' | 'g', m: Message, me: number, read = false): ChatLine {
  const mine = m.sender === me;
  return { key: `${prefix}:${m.id}`, mine, sender: mine ? 'you' : m.sender_username, content: m.content, createdAt: m.created_at, mark: mine ? (read ? 'read' : 'sent') : null };
}

/**
 * The messages of each conversation (or group) that was shown, oldest first, by its id. Only
 * shown ones are kept live: any other is read whole from REST when it is opened.
 */
export class Histories<M extends { id: number }> {
  private readonly byId = new Map<number, M[]>();

  has(id: number): boolean {
    return this.byId.has(id);
  }

  get(id: number): M[] {
    return this.byId.get(id) ?? [];
  }

  find(id: number, messageId: number): M | undefined {
    return this.byId.get(id)?.find((m) => m.id === messageId);
  }

  /** Adds a history read from REST (events that arrived meanwhile are kept, merged by id). */
  loaded(id: number, history: M[]): void {
    this.byId.set(id, mergeById(this.byId.get(id) ?? [], history));
  }

  /** A live message or change: merged into a history already kept; whether that history held it already. */
  update(id: number, m: M): boolean {
    const cached = this.byId.get(id);
    if (!cached) return false;
    const known = cached.some((c) => c.id === m.id);
    this.byId.set(id, mergeById(cached, [m]));
    return known;
  }

  delete(id: number): void {
    this.byId.delete(id);
  }

  clear(): void {
    this.byId.clear();
  }
}
