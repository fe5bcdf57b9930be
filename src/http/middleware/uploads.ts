import fs from 'node:fs/promises';
import type { Middleware } from 'koa';
import type { Upload } from '../../media/store.js';

/** Formidable spools uploads to temp files; whatever happens, they go when the request ends. */
export const removeUploadsAfterwards: Middleware = async (ctx, next) => {
  try {
    await next();
  } finally {
    const files = ctx.request.files ? Object.values(ctx.request.files).flat() : [];
    await Promise.all(files.map((f) => fs.rm(f.filepath, { force: true })));
  }
};

/** The first file sent under `field`, if any. */
export function uploadedFile(ctx: { request: { files?: Record<string, unknown> } }, field: string): Upload | undefined {
  const entry = ctx.request.files?.[field] as Upload | Upload[] | undefined;
  return Array.isArray(entry) ? entry[0] : entry;
}
