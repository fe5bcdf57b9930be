import { LRUCache } from 'lru-cache';
import type { JsonText } from './jsonText.js';

/** Bytes of JSON (and of the fingerprints naming them) kept at most. */
const MAX_BYTES = 8 * 1024 * 1024;

/** A presented page: its JSON, the cursor of the page after it, and what it was made of. */
export interface PresentedPage {
  fingerprint: readonly string[];
  text: JsonText;
  nextBefore: number | null;
}

/**
 * Presented pages' JSON, kept by what they were made of: one slot per route, viewer and query,
 * holding the page last presented there with its fingerprint (src/services/pagination.ts). A slot
 * is used only for the very fingerprint it was made from, so an entry can never be stale and
 * nothing has to invalidate it: a page read again unchanged is sent as it was, without parsing its
 * rows, presenting, serializing and hashing it again. Slots are short keys; the fingerprint (the
 * page's rows as text) is compared, never hashed.
 */
export class PresentedPages {
  private readonly pages = new LRUCache<string, PresentedPage>({
    maxSize: MAX_BYTES,
    sizeCalculation: (page, slot) => page.text.body.length + page.fingerprint.reduce((n, part) => n + part.length, 0) + slot.length,
  });

  /** `json` presents the items; a `partial` presentation (not all what the rows said) is not kept. */
  async page<T>(
    slot: string,
    fingerprint: readonly string[],
    page: { items: T[]; nextBefore: number | null },
    json: (items: T[]) => Promise<{ text: JsonText; partial?: boolean }>,
  ): Promise<PresentedPage> {
    const kept = this.pages.get(slot);
    if (kept && sameParts(kept.fingerprint, fingerprint)) return kept;
    const { text, partial } = await json(page.items);
    const fresh = { fingerprint, text, nextBefore: page.nextBefore };
    if (partial) this.pages.delete(slot);
    else this.pages.set(slot, fresh);
    return fresh;
  }
}

const sameParts = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((part, i) => part === b[i]);
