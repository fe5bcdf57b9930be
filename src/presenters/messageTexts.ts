/**
 * Direct messages rendered to JSON once and reused by every page that lists them. A DM's text
 * never changes; what can — whether it was read, and when, and its two users' names — is its
 * stamp, read with the row itself, so a rendering is used only while it shows exactly what the
 * row says: no event needs to reach this cache, and a change by any process shows at once.
 */
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { bool } from '../db/sql.js';
import type { DirectMessageRow } from '../db/rows.js';
import { iso } from './context.js';
import { presentDirectMessage } from './message.js';

/** Bytes of JSON kept at most. */
const MAX_BYTES = 16 * 1024 * 1024;

interface RenderedMessage {
  stamp: string;
  text: Buffer;
}

const stampOf = (m: DirectMessageRow): string => `${bool(m.isRead)}|${iso(m.readAt)}|${m.senderUsername}|${m.receiverUsername}`;

export class MessageTexts {
  private readonly cache = new LRUCache<number, RenderedMessage>({ maxSize: MAX_BYTES, sizeCalculation: (r) => r.text.length + r.stamp.length });
  /** Versions made here never match another process's (see RenderedPosts.version). */
  private readonly id = crypto.randomUUID();

  /** Each message's JSON, in order, and a version that differs whenever those bytes may. */
  messages(rows: readonly DirectMessageRow[]): { items: Buffer[][]; version: string } {
    let version = this.id;
    const items = rows.map((row) => {
      const id = Number(row.id);
      const stamp = stampOf(row);
      let rendered = this.cache.get(id);
      if (rendered?.stamp !== stamp) {
        rendered = { stamp, text: Buffer.from(JSON.stringify(presentDirectMessage(row))) };
        this.cache.set(id, rendered);
      }
      version += `,${id}|${stamp}`;
      return [rendered.text];
    });
    return { items, version };
  }
}
