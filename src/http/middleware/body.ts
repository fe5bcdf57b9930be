/** Request bodies: JSON, forms and multipart uploads, decoded per Content-Encoding; spooled uploads removed afterwards. */
import type { KoaBodyMiddlewareOptions } from 'koa-body';
import fs from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Middleware, ParameterizedContext } from 'koa';
import type { Config } from '../../config.js';
import { BadRequest } from '../../errors.js';

/** Where uploads are spooled while a request is handled: in the data dir, beside the media they become. */
export const uploadsDir = (config: Config): string => path.join(config.dataDir, 'uploads');

export function parseBody(config: Config): Middleware {
  const uploadDir = uploadsDir(config);
  mkdirSync(uploadDir, { recursive: true });
  const options: Partial<KoaBodyMiddlewareOptions> = {
    multipart: true,
    jsonLimit: '1mb',
    formLimit: '1mb',
    formidable: { uploadDir, maxFileSize: config.mediaMaxBytes, maxFiles: 4, maxFieldsSize: 1024 * 1024, keepExtensions: false },
  };
  // Loaded with the first body, not at start: with its parsers (co-body, formidable) it was
  // ~70 ms of `jvai serve`'s time to answer, and reads need none of it.
  let parser: Promise<Middleware> | undefined;
  return async (ctx, next) => {
    // RFC 9112 §6.3: a request without Content-Length or Transfer-Encoding has no body.
    const { headers } = ctx.req;
    if (headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) return next();
    parser ??= import('koa-body').then(({ koaBody }) => koaBody(options));
    const parse = await parser;
    let parsed = false;
    try {
      await parse(ctx, async () => {
        parsed = true;
        try {
          await next();
        } finally {
          await removeUploads(ctx);
        }
      });
    } catch (err) {
      // The decompressors (gzip, deflate, br) fail with plain errors that carry no HTTP status:
      // while reading a body that has a Content-Encoding, those are the client's fault.
      const encoded = !/^(identity)?$/i.test(ctx.get('Content-Encoding').trim());
      const hasStatus = typeof (err as { status?: unknown })?.status === 'number';
      if (!parsed && encoded && !hasStatus) throw new BadRequest('Request body does not match its Content-Encoding.');
      throw err;
    }
  };
}

/** Formidable spools uploads to temp files; whatever happens, they go when the request ends. */
async function removeUploads(ctx: ParameterizedContext): Promise<void> {
  const files = ctx.request.files ? Object.values(ctx.request.files).flat() : [];
  await Promise.all(files.map((f) => fs.rm(f.filepath, { force: true })));
}
