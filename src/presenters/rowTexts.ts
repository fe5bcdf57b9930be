/**
 * Rows rendered to JSON once and reused by every page that lists them, for rows whose JSON is a
 * function of the row alone: messages. A message's text never changes; what can (a DM's read
 * state, the users' names) is the row's stamp, read with the row itself, so a rendering is used
 * only while it shows exactly what the row says — no event needs to reach this cache, and a change
 * by any process shows at once.
 */
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { bool } from '../db/sql.js';
import type { DirectMessageRow, GroupMessageRow } from '../db/rows.js';
import { iso, type RenderedItems } from './context.js';
import { presentDirectMessage, presentGroupMessage } from './message.js';

interface Rendered {
  stamp: string;
  text: Buffer;
}

interface Kind<T> {
  present: (row: T) => unknown;
  /** What of the row can change; the rest (id, text, times) never does. */
  stamp: (row: T) => string;
  /** Bytes of JSON kept at most. */
  maxBytes: number;
}

export class RowTexts<T extends { id: number }> {
  private readonly cache: LRUCache<number, Rendered>;
  private readonly id = crypto.randomUUID();

  constructor(private readonly kind: Kind<T>) {
    this.cache = new LRUCache<number, Rendered>({ maxSize: kind.maxBytes, sizeCalculation: (r) => r.text.length + r.stamp.length });
  }

  /** Each row's JSON, in order; its version: the rows' ids and stamps. */
  render(rows: readonly T[]): RenderedItems {
    let version = this.id;
    const items = rows.map((row) => {
      const id = Number(row.id);
      const stamp = this.kind.stamp(row);
      let rendered = this.cache.get(id);
      if (rendered?.stamp !== stamp) {
        rendered = { stamp, text: Buffer.from(JSON.stringify(this.kind.present(row))) };
        this.cache.set(id, rendered);
      }
      version += `,${id}|${stamp}`;
      return [rendered.text];
    });
    return { items, version };
  }
}

export const directMessageTexts = () =>
  new RowTexts<DirectMessageRow>({
    present: presentDirectMessage,
    stamp: (m) => `${bool(m.isRead)}|${iso(m.readAt)}|${m.senderUsername}|${m.receiverUsername}`,
    maxBytes: 16 * 1024 * 1024,
  });

export const groupMessageTexts = () => new RowTexts<GroupMessageRow>({ present: presentGroupMessage, stamp: (m) => m.senderUsername, maxBytes: 16 * 1024 * 1024 });
