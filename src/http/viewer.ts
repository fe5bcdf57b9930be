import type { ApiContext } from './context.js';
import type { Viewer } from '../presenters/context.js';

/** The presenter context of this request: who asks, and the base for absolute media URLs. */
export function viewerOf(ctx: ApiContext): Viewer {
  return { userId: ctx.state.user?.id ?? null, baseUrl: ctx.config.publicUrl ?? `${ctx.protocol}://${ctx.host}`, media: ctx.services.deps.media };
}
