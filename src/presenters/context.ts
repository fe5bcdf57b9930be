import type { MediaStore } from '../media/store.js';
import type { DbDate } from '../db/rows.js';

/** Who is looking and how to build absolute URLs: everything a presenter needs besides the model. */
export interface Viewer {
  userId: number | null;
  baseUrl: string;
  media: MediaStore;
}

/**
 * Items rendered to JSON, each as chunks of bytes, and a version that differs whenever those bytes
 * may — so an ETag can be made from it instead of hashing every byte. Versions are unique per
 * cache of renderings: one never matches a version made by another process.
 */
export interface RenderedItems {
  items: Buffer[][];
  version: string;
  /** Set when the bytes are not all what the rows said (an item gone or changed since): not to be kept by those rows. */
  partial?: true;
}

/** SQLite's stored form of a UTC date (see src/db/sqlite.ts sqliteDate), turned into ISO text without parsing. */
const SQLITE_UTC = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) \+00:00$/;

/** A timestamp as ISO 8601 text in UTC; null stays null. */
export function iso(d: DbDate): string;
export function iso(d: DbDate | null | undefined): string | null;
export function iso(d: DbDate | null | undefined): string | null {
  if (!d) return null;
  if (typeof d === 'string') {
    const m = SQLITE_UTC.exec(d);
    if (m) return `${m[1]}T${m[2]}Z`;
  }
  return new Date(d).toISOString();
}
