import { z } from 'zod';
import { idParam, route } from '../route.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageRequest, pageSchema, sendPage } from '../pagination.js';
import { viewerOf } from '../viewer.js';
import { id, text } from '../../validation.js';
import { presentComment } from '../../presenters/comment.js';
import * as responses from '../responses.js';

const MAX_COMMENT_LENGTH = 5000;
const content = text(MAX_COMMENT_LENGTH);
const patchBody = z.object({ content: content.optional() });
const putBody = z.object({ content });

const updateRoute = (method: 'put' | 'patch', body: typeof patchBody) =>
  route({
    method,
    path: '/comments/:id',
    summary: method === 'put' ? 'Replace your comment' : 'Edit your comment',
    tag: 'comments',
    response: responses.comment,
    body,
    async handler(ctx, { body: b, user }) {
      return presentComment(await ctx.services.comments.update(user, idParam(ctx), b.content), viewerOf(ctx));
    },
  });

export const commentRoutes = [
  route({
    method: 'post',
    path: '/comments',
    summary: 'Comment on a post',
    tag: 'comments',
    response: responses.comment,
    before: [sendLimit],
    body: z.object({ post: id(), content }),
    status: 201,
    async handler(ctx, { body, user }) {
      return presentComment(await ctx.services.comments.create(user, body.post, body.content), viewerOf(ctx));
    },
  }),
  route({
    method: 'get',
    path: '/comments',
    summary: "A post's comments (?post_id= required), newest first",
    tag: 'comments',
    response: responses.comments,
    query: pageSchema.extend({ post_id: id() }),
    async handler(ctx, { query, user }) {
      const viewer = viewerOf(ctx);
      const page = await ctx.services.comments.listByPost(query.post_id, user.id, pageRequest(query));
      return sendPage(ctx, page, (c) => presentComment(c, viewer));
    },
  }),
  route({
    method: 'get',
    path: '/comments/:id',
    summary: 'A comment by id',
    tag: 'comments',
    response: responses.comment,
    async handler(ctx, { user }) {
      return presentComment(await ctx.services.comments.get(idParam(ctx), user.id), viewerOf(ctx));
    },
  }),
  updateRoute('put', putBody as unknown as typeof patchBody),
  updateRoute('patch', patchBody),
  route({
    method: 'delete',
    path: '/comments/:id',
    summary: 'Delete your comment',
    tag: 'comments',
    status: 204,
    async handler(ctx, { user }) {
      await ctx.services.comments.delete(user, idParam(ctx));
    },
  }),
  route({
    method: 'post',
    path: '/comments/:id/like',
    summary: 'Like a comment, or unlike it if you already do',
    tag: 'comments',
    response: responses.likeToggled,
    async handler(ctx, { user }) {
      const liked = await ctx.services.comments.toggleLike(user, idParam(ctx));
      return { message: liked ? 'Comment liked' : 'Comment unliked', liked };
    },
  }),
];
