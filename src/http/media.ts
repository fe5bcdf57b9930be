import fs from 'node:fs';
import type { Middleware } from 'koa';
import type { MediaStore } from '../media/store.js';
import { CONTENT_TYPES } from '../media/store.js';

/** Serves stored uploads under /media/ with their real content type. */
export function serveMedia(media: MediaStore): Middleware {
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/media/') || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const file = media.resolve(ctx.path.slice('/media/'.length));
    // resolve() only accepts names with one of our extensions, so every file has its type.
    const type = file ? CONTENT_TYPES[file.slice(file.lastIndexOf('.') + 1)] : undefined;
    const stat = file && type ? await fs.promises.stat(file).catch(() => null) : null;
    if (!file || !type || !stat?.isFile()) {
      ctx.status = 404;
      ctx.body = { detail: 'Not found.' };
      return;
    }
    ctx.type = type;
    ctx.length = stat.size;
    // Names are random and never reused, so a stored file never changes.
    ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.body = fs.createReadStream(file);
  };
}
