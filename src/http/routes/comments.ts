import { z } from 'zod';
import { actionRoute, createRoute, destroyRoute, listRoute, retrieveRoute, updateRoutes } from '../builders.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageSchema } from '../pagination.js';
import { viewerOf } from '../viewer.js';
import { id, text } from '../../validation.js';
import { presentComment } from '../../presenters/comment.js';
import * as responses from '../responses.js';

const MAX_COMMENT_LENGTH = 5000;
const content = text(MAX_COMMENT_LENGTH);
const patchBody = z.object({ content: content.optional() });
const putBody = z.object({ content });

const one = { path: '/comments/:id', tag: 'comments' };

export const commentRoutes = [
  createRoute({
    path: '/comments',
    summary: 'Comment on a post',
    tag: 'comments',
    response: responses.comment,
    before: [sendLimit],
    body: z.object({ post: id(), content }),
    async create(ctx, { body, user }) {
      return presentComment(await ctx.services.comments.create(user, body.post, body.content), viewerOf(ctx));
    },
  }),
  listRoute({
    path: '/comments',
    summary: "A post's comments (?post_id= required), newest first",
    tag: 'comments',
    response: responses.comments,
    query: pageSchema.extend({ post_id: id() }),
    load: (ctx, { query, user }, page) => ctx.services.comments.listByPost(query.post_id, user.id, page),
    present: presentComment,
  }),
  retrieveRoute({ ...one, summary: 'A comment by id', response: responses.comment, load: (ctx, { id, user }) => ctx.services.comments.get(id, user.id), present: presentComment }),
  ...updateRoutes({
    ...one,
    summary: { put: 'Replace your comment', patch: 'Edit your comment' },
    response: responses.comment,
    put: putBody,
    patch: patchBody,
    async update(ctx, { body, user, id }) {
      return presentComment(await ctx.services.comments.update(user, id, body.content), viewerOf(ctx));
    },
  }),
  destroyRoute({ ...one, summary: 'Delete your comment', destroy: (ctx, { user, id }) => ctx.services.comments.delete(user, id) }),
  actionRoute({
    path: '/comments/:id/like',
    summary: 'Like a comment, or unlike it if you already do',
    tag: 'comments',
    response: responses.likeToggled,
    async act(ctx, { user, id }) {
      const liked = await ctx.services.comments.toggleLike(user, id);
      return { message: liked ? 'Comment liked' : 'Comment unliked', liked };
    },
  }),
];
