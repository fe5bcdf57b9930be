import type { Upload } from '../../media/store.js';

/** The first file sent under `field`, if any. */
export function uploadedFile(ctx: { request: { files?: Record<string, unknown> } }, field: string): Upload | undefined {
  const entry = ctx.request.files?.[field] as Upload | Upload[] | undefined;
  return Array.isArray(entry) ? entry[0] : entry;
}
