import { z } from 'zod';
import { DEFAULT_LIMIT, MAX_LIMIT, type PageRequest } from '../services/pagination.js';
import { id } from '../validation.js';
import type { ApiContext } from './context.js';

export const pageParams = {
  limit: z.preprocess((v) => (v === undefined || v === '' ? DEFAULT_LIMIT : Number(v)), z.number({ error: 'A valid integer is required.' }).int().min(1).max(MAX_LIMIT)),
  before: id().optional(),
};

export const pageSchema = z.object(pageParams);
/** Every list route's query: the page parameters, and any filters it adds. */
export type PageQuery = z.output<typeof pageSchema>;

export function pageRequest(query: PageQuery): PageRequest {
  return { limit: query.limit, before: query.before };
}

/** Sets the RFC 8288 `Link: <…>; rel="next"` header to the page before `nextBefore` (none at the end). */
export function linkNext(ctx: ApiContext, nextBefore: number | null): void {
  if (nextBefore === null) return;
  const url = new URL(ctx.href);
  url.searchParams.set('before', String(nextBefore));
  ctx.set('Link', `<${url.toString()}>; rel="next"`);
}
