import { z } from 'zod';
import { idParam, route } from '../route.js';
import { sendLimit } from '../middleware/rateLimit.js';
import { pageRequest, pageSchema, sendPage } from '../pagination.js';
import { viewerOf } from '../viewer.js';
import { uploadedFile } from '../middleware/uploads.js';
import { presentPost } from '../../presenters/post.js';
import { MAX_POST_LENGTH, type PostView } from '../../services/posts.js';
import type { Page, PageRequest } from '../../services/pagination.js';
import type { ApiContext } from '../context.js';
import * as responses from '../responses.js';

const content = z.string().trim().max(MAX_POST_LENGTH);
/** Without a file, `image` may only be cleared: null in JSON, an empty field in a form (as DRF reads it). */
const noFile = z.union([z.null(), z.literal('')], { error: 'The submitted data was not a file. Check the encoding type on the form.' }).optional();
const patchBody = z.object({ content: content.optional(), image: noFile });
const putBody = patchBody.extend({ content });

const listRoute = (path: string, summary: string, load: (ctx: ApiContext, viewerId: number, page: PageRequest) => Promise<Page<PostView>>) =>
  route({
    method: 'get',
    path,
    summary,
    tag: 'posts',
    response: responses.posts,
    query: pageSchema,
    async handler(ctx, { query, user }) {
      const viewer = viewerOf(ctx);
      return sendPage(ctx, await load(ctx, user.id, pageRequest(query)), (p) => presentPost(p, viewer));
    },
  });

const updateRoute = (method: 'put' | 'patch', body: typeof patchBody) =>
  route({
    method,
    path: '/posts/:id',
    summary: method === 'put' ? "Replace your post's content (multipart may replace the image)" : "Change your post's content and/or image",
    tag: 'posts',
    response: responses.post,
    file: 'image',
    body,
    async handler(ctx, { body: b, user }) {
      const changes = { content: b.content, clearImage: b.image !== undefined };
      return presentPost(await ctx.services.posts.update(user, idParam(ctx), changes, uploadedFile(ctx, 'image')), viewerOf(ctx));
    },
  });

export const postRoutes = [
  route({
    method: 'post',
    path: '/posts',
    summary: 'Create a post: content and/or an image (multipart)',
    tag: 'posts',
    response: responses.post,
    before: [sendLimit],
    file: 'image',
    body: patchBody,
    status: 201,
    async handler(ctx, { body, user }) {
      return presentPost(await ctx.services.posts.create(user, body.content ?? '', uploadedFile(ctx, 'image')), viewerOf(ctx));
    },
  }),
  listRoute('/posts', 'Every post, newest first', (ctx, viewerId, page) => ctx.services.posts.list(viewerId, page)),
  listRoute('/posts/feed', 'Posts by the people you follow and your own, newest first', (ctx, viewerId, page) => ctx.services.posts.feed(viewerId, page)),
  listRoute('/posts/my_posts', 'Your own posts, newest first', (ctx, viewerId, page) => ctx.services.posts.myPosts(viewerId, page)),
  route({
    method: 'get',
    path: '/posts/:id',
    summary: 'A post with its newest 50 comments',
    tag: 'posts',
    response: responses.post,
    async handler(ctx, { user }) {
      return presentPost(await ctx.services.posts.get(idParam(ctx), user.id), viewerOf(ctx));
    },
  }),
  updateRoute('put', putBody as unknown as typeof patchBody),
  updateRoute('patch', patchBody),
  route({
    method: 'delete',
    path: '/posts/:id',
    summary: 'Delete your post, its comments, likes and image',
    tag: 'posts',
    status: 204,
    async handler(ctx, { user }) {
      await ctx.services.posts.delete(user, idParam(ctx));
    },
  }),
  route({
    method: 'post',
    path: '/posts/:id/like',
    summary: 'Like a post, or unlike it if you already do',
    tag: 'posts',
    response: responses.likeToggled,
    async handler(ctx, { user }) {
      const liked = await ctx.services.posts.toggleLike(user, idParam(ctx));
      return { message: liked ? 'Post liked' : 'Post unliked', liked };
    },
  }),
];
