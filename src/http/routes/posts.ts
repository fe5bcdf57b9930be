import { z } from 'zod';
import { actionRoute, createRoute, destroyRoute, listRoute, retrieveRoute, updateRoutes, type Render } from '../builders.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageSchema } from '../pagination.js';
import { viewerOf } from '../viewer.js';
import { uploadedFile } from '../middleware/uploads.js';
import { presentPost } from '../../presenters/post.js';
import { MAX_POST_LENGTH } from '../../services/posts.js';
import type { PostStampRow } from '../../db/rows.js';
import type { ApiContext } from '../context.js';
import * as responses from '../responses.js';

const content = z.string().trim().max(MAX_POST_LENGTH);
/** Without a file, `image` may only be cleared: null in JSON, an empty field in a form (as DRF reads it). */
const noFile = z.union([z.null(), z.literal('')], { error: 'The submitted data was not a file. Check the encoding type on the form.' }).optional();
const patchBody = z.object({ content: content.optional(), image: noFile });
const putBody = patchBody.extend({ content });

/** Lists and the detail view render through the cache of renderings (src/presenters/postTexts.ts). */
const render: Render<PostStampRow> = (ctx, stamps, viewer) => ctx.postTexts.posts(stamps, viewer, ctx.services.posts);
const listed = { tag: 'posts', response: responses.posts, query: pageSchema, render, generation: (ctx: ApiContext) => ctx.postTexts.generationName };
const one = { path: '/posts/:id', tag: 'posts' };

export const postRoutes = [
  createRoute({
    path: '/posts',
    summary: 'Create a post: content and/or an image (multipart)',
    tag: 'posts',
    response: responses.post,
    before: [sendLimit],
    file: 'image',
    body: patchBody,
    async create(ctx, { body, user }) {
      return presentPost(await ctx.services.posts.create(user, body.content ?? '', uploadedFile(ctx, 'image')), viewerOf(ctx));
    },
  }),
  listRoute({ ...listed, path: '/posts', summary: 'Every post, newest first', load: (ctx, { user }, page) => ctx.services.posts.list(user.id, page) }),
  listRoute({
    ...listed,
    path: '/posts/feed',
    summary: 'Posts by the people you follow and your own, newest first',
    load: (ctx, { user }, page) => ctx.services.posts.feed(user.id, page),
  }),
  listRoute({ ...listed, path: '/posts/my_posts', summary: 'Your own posts, newest first', load: (ctx, { user }, page) => ctx.services.posts.myPosts(user.id, page) }),
  retrieveRoute({
    ...one,
    summary: 'A post with its newest 50 comments',
    response: responses.post,
    load: (ctx, { id, user }) => ctx.services.posts.stamp(id, user.id),
    render,
  }),
  ...updateRoutes({
    ...one,
    summary: { put: "Replace your post's content (multipart may replace the image)", patch: "Change your post's content and/or image" },
    response: responses.post,
    file: 'image',
    put: putBody,
    patch: patchBody,
    async update(ctx, { body, user, id }) {
      const changes = { content: body.content, clearImage: body.image !== undefined };
      return presentPost(await ctx.services.posts.update(user, id, changes, uploadedFile(ctx, 'image')), viewerOf(ctx));
    },
  }),
  destroyRoute({
    ...one,
    summary: 'Delete your post, its comments, likes and image',
    destroy: (ctx, { user, id }) => ctx.services.posts.delete(user, id),
  }),
  actionRoute({
    path: '/posts/:id/like',
    summary: 'Like a post, or unlike it if you already do',
    tag: 'posts',
    response: responses.likeToggled,
    async act(ctx, { user, id }) {
      const liked = await ctx.services.posts.toggleLike(user, id);
      return { message: liked ? 'Post liked' : 'Post unliked', liked };
    },
  }),
];
