/** Request bodies: JSON, forms and multipart uploads, decoded per Content-Encoding. */
import { koaBody } from 'koa-body';
import type { Middleware } from 'koa';
import type { Config } from '../../config.js';
import { BadRequest } from '../../errors.js';

export function parseBody(config: Config): Middleware {
  const parser = koaBody({
    multipart: true,
    jsonLimit: '1mb',
    formLimit: '1mb',
    formidable: { maxFileSize: config.mediaMaxBytes, maxFiles: 4, maxFieldsSize: 1024 * 1024, keepExtensions: false },
  });
  return async (ctx, next) => {
    let parsed = false;
    try {
      await parser(ctx, () => {
        parsed = true;
        return next();
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
