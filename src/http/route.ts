/**
 * Routes are declared as data (method, path, docs, schemas, handler), Ghost-style: the router,
 * the OpenAPI document and its test are all built from the same table.
 */
import type { z } from 'zod';
import type { Router } from '@koa/router';
import type { ApiContext, ApiMiddleware, AppCustom, AppState } from './context.js';
import type { User } from '../models/index.js';
import { MAX_ID, parse } from '../validation.js';
import { AuthenticationFailed, NotFound } from '../errors.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteInput<B, Q> {
  body: B;
  query: Q;
  /** The authenticated user (routes marked `public` never read it). */
  user: User;
}

export interface Route<B = unknown, Q = unknown> {
  method: Method;
  /** Koa-router path below /api without a trailing slash, e.g. `/posts/:id/like`. */
  path: string;
  summary: string;
  tag: string;
  /** No authentication required. */
  public?: boolean;
  /** Accepts multipart/form-data with a file field of this name. */
  file?: string;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  /** Success status; 204 sends no body. */
  status?: number;
  /** The success body's schema (from src/http/responses.ts); none for 204. */
  response?: z.ZodType;
  /** Extra middleware run before the handler (rate limits). */
  before?: ApiMiddleware[];
  handler: (ctx: ApiContext, input: RouteInput<B, Q>) => Promise<unknown>;
}

/** Declares a route with its body/query types inferred from the schemas. */
export function route<B = undefined, Q = undefined>(spec: Route<B, Q>): Route {
  return spec as unknown as Route;
}

/** Reads an integer path parameter; anything else is a 404 like an unmatched DRF route. */
export function idParam(ctx: ApiContext, name = 'id'): number {
  const raw = ctx.params[name];
  // An id no INTEGER column can hold names nothing.
  if (!raw || !/^\d{1,10}$/.test(raw) || Number(raw) > MAX_ID) throw new NotFound();
  return Number(raw);
}

export function mountRoutes(
  router: Router<AppState, AppCustom>,
  routes: Route[],
  authenticate: ApiMiddleware,
): void {
  for (const spec of routes) {
    const handler: ApiMiddleware = async (ctx) => {
      const input = {
        body: spec.body ? parse(spec.body, ctx.request.body) : undefined,
        query: spec.query ? parse(spec.query, ctx.query) : undefined,
        get user(): User {
          if (!ctx.state.user) throw new AuthenticationFailed();
          return ctx.state.user;
        },
      };
      const result = await spec.handler(ctx, input as RouteInput<unknown, unknown>);
      ctx.status = spec.status ?? 200;
      if (ctx.status !== 204) ctx.body = result;
    };
    const chain = [...(spec.public ? [] : [authenticate]), ...(spec.before ?? []), handler];
    router.register(spec.path, [spec.method.toUpperCase()], chain);
  }
}
