/**
 * Builders for the route shapes every resource repeats: create, a paginated list, retrieve, update
 * by PUT and PATCH, destroy, and a POST action on one object. Each fixes the method, status and
 * presentation of its shape; the resource route files say only what differs.
 */
import type { z } from 'zod';
import { route, type Route, type RouteInput } from './route.js';
import { linkNext, pageRequest, type PageQuery } from './pagination.js';
import { viewerOf } from './viewer.js';
import type { ApiContext, ApiMiddleware } from './context.js';
import type { RenderedItems, Viewer } from '../presenters/context.js';
import type { Page, PageRequest } from '../services/pagination.js';
import { NotFound } from '../errors.js';
import { JsonText } from './jsonText.js';

/** What every route documents about itself, and the schema of what it answers. */
interface Described {
  path: string;
  summary: string;
  tag: string;
  response: z.ZodType;
}

type Step<B, Q, R> = (ctx: ApiContext, input: RouteInput<B, Q>) => Promise<R>;
type Present<T> = (item: T, viewer: Viewer) => unknown;
/** Renders several items at once to JSON (items gone meanwhile left out). */
export type Render<T> = (ctx: ApiContext, items: T[], viewer: Viewer) => Promise<RenderedItems>;
/**
 * Items are presented one by one, or rendered together (through a cache of renderings, whose
 * `generation` names what it holds where the items' rows do not: an author's new name).
 */
type Presentation<T> = { present: Present<T>; render?: never; generation?: never } | { render: Render<T>; generation?: (ctx: ApiContext) => string; present?: never };

/** POST a new object: 201 with it. */
export function createRoute<B>(
  spec: Described & { body: z.ZodType<B>; file?: string; before?: ApiMiddleware[]; create: Step<B, undefined, unknown> },
): Route {
  const { create, ...described } = spec;
  return route({ ...described, method: 'post', status: 201, handler: create });
}

/** GET one page (`?limit=&before=`), each item presented; a next page is linked in `Link`. */
export function listRoute<T, Q extends PageQuery>(
  spec: Described & { query: z.ZodType<Q>; load: (ctx: ApiContext, input: RouteInput<undefined, Q>, page: PageRequest) => Promise<Page<T>> } & Presentation<T>,
): Route {
  const { load, present, render, generation, ...described } = spec;
  return route<undefined, Q>({
    ...described,
    method: 'get',
    async handler(ctx, input) {
      const page = await load(ctx, input, pageRequest(input.query));
      const viewer = viewerOf(ctx);
      const json = async (items: T[]) => {
        if (!render) return { text: JsonText.json(items.map((item) => present(item, viewer))) };
        const rendered = await render(ctx, items, viewer);
        return { text: JsonText.array(rendered.items, rendered.version), partial: rendered.partial };
      };
      const fingerprint = page.fingerprint && generation ? [...page.fingerprint, generation(ctx)] : page.fingerprint;
      const presented =
        fingerprint === undefined
          ? { text: (await json(page.items)).text, nextBefore: page.nextBefore }
          : await ctx.presentedPages.page(`${spec.path}\n${viewer.userId}\n${viewer.baseUrl}\n${ctx.querystring}`, fingerprint, page, json);
      linkNext(ctx, presented.nextBefore);
      return presented.text;
    },
  });
}

/** GET one object, presented. */
export function retrieveRoute<T>(spec: Described & { load: Step<undefined, undefined, T> } & Presentation<T>): Route {
  const { load, present, render, ...described } = spec;
  return route({
    ...described,
    method: 'get',
    async handler(ctx, input) {
      const item = await load(ctx, input);
      const viewer = viewerOf(ctx);
      if (!render) return present(item, viewer);
      const { items, version } = await render(ctx, [item], viewer);
      // Deleted between the two reads.
      if (!items[0]) throw new NotFound();
      return JsonText.of(items[0], version);
    },
  });
}

/**
 * PUT and PATCH of one object, in that order: one handler for both, PUT's body schema requiring
 * what PATCH's leaves optional (so PUT's body is a PATCH body too).
 */
export function updateRoutes<P>(
  spec: Omit<Described, 'summary'> & {
    summary: Record<'put' | 'patch', string>;
    file?: string;
    put: z.ZodType<NoInfer<P>>;
    patch: z.ZodType<P>;
    update: Step<P, undefined, unknown>;
  },
): Route[] {
  const { summary, put, patch, update, ...described } = spec;
  return [
    route({ ...described, method: 'put', summary: summary.put, body: put, handler: update }),
    route({ ...described, method: 'patch', summary: summary.patch, body: patch, handler: update }),
  ];
}

/** DELETE one object: 204, no body. */
export function destroyRoute(spec: Omit<Described, 'response'> & { destroy: Step<undefined, undefined, void> }): Route {
  const { destroy, ...described } = spec;
  return route({ ...described, method: 'delete', status: 204, handler: destroy });
}

/** POST with no body that acts on the caller or one object, answering with a small result. */
export function actionRoute(spec: Described & { act: Step<undefined, undefined, unknown> }): Route {
  const { act, ...described } = spec;
  return route({ ...described, method: 'post', handler: act });
}
