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
import { JsonText } from './jsonText.js';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteInput<B, Q> {
  body: B;
  query: Q;
  /** The authenticated user (routes marked `public` never read it). */
  user: User;
  /** The `:id` path parameter; reading it is a 404 when it names no possible row. */
  id: number;
}

/** A route as the router and the OpenAPI document see it: its handler's types erased. */
export interface Route {
  method: Method;
  /** Koa-router path below /api without a trailing slash, e.g. `/posts/:id/like`. */
  path: string;
  summary: string;
  tag: string;
  /** No authentication required. */
  public?: boolean;
  /** Accepts multipart/form-data with a file field of this name. */
  file?: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Success status; 204 sends no body. */
  status?: number;
  /** The success body's schema (from src/http/responses.ts); none for 204. */
  response?: z.ZodType;
  /** Extra middleware run before the handler (rate limits). */
  before?: ApiMiddleware[];
  /** Validates the input, then runs the declared handler; resolves to the success body. */
  handle: (ctx: ApiContext) => Promise<unknown>;
}

/** A route as declared: the handler's input is typed by the body and query schemas. */
export interface RouteSpec<B, Q> extends Omit<Route, 'body' | 'query' | 'handle'> {
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  handler: (ctx: ApiContext, input: RouteInput<B, Q>) => Promise<unknown>;
}

/** Declares a route with its body/query types inferred from the schemas. */
export function route<B = undefined, Q = undefined>(spec: RouteSpec<B, Q>): Route {
  const { handler, ...rest } = spec;
  const where = `${spec.method.toUpperCase()} ${spec.path}`;
  return {
    ...rest,
    async handle(ctx) {
      // Parsed up front, body first, so a bad request is a 400 before the handler runs.
      const body = spec.body && { value: parse(spec.body, ctx.request.body) };
      const query = spec.query && { value: parse(spec.query, ctx.query) };
      return handler(ctx, new Input<B, Q>(ctx, where, body, query));
    },
  };
}

/**
 * A handler's input, read lazily. A class, not an object literal with getters: V8 allocates such
 * literals straight into the old generation once it sees a few survive, and their getters then
 * keep each request's whole object graph alive past young-generation collections (measured:
 * ~1.5 MB promoted per scavenge and a full mark-compact every half second under load).
 */
class Input<B, Q> implements RouteInput<B, Q> {
  constructor(
    private readonly ctx: ApiContext,
    private readonly where: string,
    private readonly parsedBody: { value: B } | undefined,
    private readonly parsedQuery: { value: Q } | undefined,
  ) {}

  get body(): B {
    if (!this.parsedBody) throw new Error(`${this.where} reads a body it declares no schema for`);
    return this.parsedBody.value;
  }

  get query(): Q {
    if (!this.parsedQuery) throw new Error(`${this.where} reads a query it declares no schema for`);
    return this.parsedQuery.value;
  }

  get user(): User {
    if (!this.ctx.state.user) throw new AuthenticationFailed();
    return this.ctx.state.user;
  }

  get id(): number {
    return idParam(this.ctx);
  }
}

/** Reads the integer `:id` path parameter; anything else is a 404 like an unmatched DRF route. */
function idParam(ctx: ApiContext): number {
  const raw = ctx.params.id;
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
      const result = await spec.handle(ctx);
      ctx.status = spec.status ?? 200;
      if (ctx.status === 204) return;
      if (result instanceof JsonText) {
        ctx.body = result.body;
        ctx.type = 'application/json';
        if (result.etag) ctx.etag = result.etag;
      } else ctx.body = result;
    };
    const chain = [...(spec.public ? [] : [authenticate]), ...(spec.before ?? []), handler];
    router.register(spec.path, [spec.method.toUpperCase()], chain);
  }
}
