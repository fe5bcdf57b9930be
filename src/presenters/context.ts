import type { MediaStore } from '../media/store.js';

/** Who is looking and how to build absolute URLs: everything a presenter needs besides the model. */
export interface Viewer {
  userId: number | null;
  baseUrl: string;
  media: MediaStore;
}

export const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);
