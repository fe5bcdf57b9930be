import { LRUCache } from 'lru-cache';
import { JsonText } from './jsonText.js';

/** Bytes of JSON (and of the fingerprints naming them) kept at most. */
const MAX_BYTES = 8 * 1024 * 1024;

/**
 * Presented pages' JSON, kept by what they were made of: a route's path, the viewer and the
 * page's fingerprint (src/services/pagination.ts). The key holds every input, so an entry can
 * never be stale and nothing has to invalidate it: a page read again unchanged is sent as it was,
 * without presenting, serializing and hashing it again.
 */
export class PresentedPages {
  private readonly pages = new LRUCache<string, JsonText>({ maxSize: MAX_BYTES, sizeCalculation: (text, key) => text.body.length + key.length });

  json(key: string, present: () => unknown): JsonText {
    let text = this.pages.get(key);
    if (!text) {
      text = JsonText.json(present());
      this.pages.set(key, text);
    }
    return text;
  }
}
