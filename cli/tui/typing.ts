/** Typing notices both ways: ours (throttled, stopped when idle) and who types in each conversation. */
import type { TypingEvent } from '../../src/schemas/protocol.js';
import type { ChatContext } from './context.js';
import { parseKey, type EntryKey } from './entries.js';

const TYPING_SEND_EVERY_MS = 3_000;
const TYPING_IDLE_MS = 2_500;
/** A typing notice whose "stopped" never came (the typist vanished) expires. */
const TYPING_SHOWN_MS = 6_000;

export class Typing {
  private readonly typists = new Map<EntryKey, Map<string, NodeJS.Timeout>>();
  private ours: { key: EntryKey; sentAt: number; idle: NodeJS.Timeout } | null = null;

  constructor(private readonly chat: ChatContext) {}

  /** The input line changed: tells the other side we type (at most every few seconds) and when we stop. */
  typed(text: string): void {
    const key = this.chat.open;
    if (key === 'feed') return;
    if (!text) return this.stop();
    const now = Date.now();
    const out = this.ours;
    if (out && out.key === key) {
      clearTimeout(out.idle);
      out.idle = setTimeout(() => this.stop(), TYPING_IDLE_MS);
      if (now - out.sentAt < TYPING_SEND_EVERY_MS) return;
      out.sentAt = now;
    } else {
      this.stop();
      this.ours = { key, sentAt: now, idle: setTimeout(() => this.stop(), TYPING_IDLE_MS) };
    }
    this.send(key, true);
  }

  /** We stopped typing (sent, switched conversation, idle, emptied the line). */
  stop(): void {
    const out = this.ours;
    if (!out) return;
    clearTimeout(out.idle);
    this.ours = null;
    this.send(out.key, false);
  }

  private send(key: EntryKey, isTyping: boolean): void {
    const [kind, id] = parseKey(key);
    if (kind === 'dm') this.chat.realtime.typing({ to_user: id, is_typing: isTyping });
    else if (kind === 'group') this.chat.realtime.typing({ group_id: id, is_typing: isTyping });
  }

  /** Someone else's notice. */
  heard(e: TypingEvent): void {
    const key: EntryKey = e.group_id !== null ? `group:${e.group_id}` : `dm:${e.from_user}`;
    if (!e.is_typing) return this.clear(key, e.username);
    const typists = this.typists.get(key) ?? new Map<string, NodeJS.Timeout>();
    clearTimeout(typists.get(e.username));
    typists.set(
      e.username,
      setTimeout(() => this.clear(key, e.username), TYPING_SHOWN_MS),
    );
    this.typists.set(key, typists);
    this.chat.changed();
  }

  /** `username` no longer types in `key` (said so, or their message arrived). */
  clear(key: EntryKey, username: string): void {
    const typists = this.typists.get(key);
    if (!typists?.has(username)) return;
    clearTimeout(typists.get(username));
    typists.delete(username);
    this.chat.changed();
  }

  /** Who types in `key`. */
  in(key: EntryKey): string[] {
    return [...(this.typists.get(key)?.keys() ?? [])];
  }

  /** Clears every timer (without telling anyone: the connection is closing). */
  dispose(): void {
    if (this.ours) clearTimeout(this.ours.idle);
    for (const timers of this.typists.values()) for (const t of timers.values()) clearTimeout(t);
  }
}
