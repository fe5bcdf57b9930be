/** `jvai feed|posts|show|post|edit|delete|like|comment`: posts, comments and likes. */
import type { Command } from 'commander';
import { authed, command, joinWords, positiveInt, UsageError, withLimit } from './action.js';

const POST_ID = 'the post id';

export function register(program: Command): void {
  withLimit(command(program, 'feed', 'posts by the people you follow and your own, newest first')).action(
    authed(async (ctx) => {
      const list = await ctx.api.feed(ctx.opts<{ limit?: number }>().limit);
      ctx.print(list, () => ctx.fmt.posts(list));
    }),
  );

  withLimit(command(program, 'posts', 'every post, newest first').option('--mine', 'only your own posts')).action(
    authed(async (ctx) => {
      const { mine, limit } = ctx.opts<{ mine?: boolean; limit?: number }>();
      const list = await (mine ? ctx.api.myPosts(limit) : ctx.api.posts(limit));
      ctx.print(list, () => ctx.fmt.posts(list));
    }),
  );

  command(program, 'show', 'show a post with its comments')
    .argument('<post-id>', POST_ID, positiveInt)
    .action(
      authed(async (ctx, id: number) => {
        const post = await ctx.api.post(id);
        ctx.print(post, () => ctx.fmt.postWithComments(post));
      }),
    );

  command(program, 'post', 'publish a post: text, an image, or both')
    .argument('[text...]', 'what to say')
    .option('--image <file>', 'attach an image (PNG, JPEG, GIF or WebP)')
    .action(
      authed(async (ctx, words: string[]) => {
        const { image } = ctx.opts<{ image?: string }>();
        const content = joinWords(words);
        if (!content && !image) throw new UsageError('a post needs text or --image');
        const post = await ctx.api.createPost({ content, image: image ? await ctx.upload(image) : undefined });
        ctx.print(post, () => `Posted:\n${ctx.fmt.post(post)}`);
      }),
    );

  command(program, 'edit', "replace your post's text")
    .argument('<post-id>', POST_ID, positiveInt)
    .argument('<text...>', 'the new text')
    .action(
      authed(async (ctx, id: number, words: string[]) => {
        const post = await ctx.api.updatePost(id, joinWords(words));
        ctx.print(post, () => `Edited:\n${ctx.fmt.post(post)}`);
      }),
    );

  command(program, 'delete', 'delete your post (or, with --comment, your comment)')
    .argument('<id>', 'the post id (the comment id with --comment)', positiveInt)
    .option('--comment', 'the id is a comment')
    .action(
      authed(async (ctx, id: number) => {
        const isComment = Boolean(ctx.opts<{ comment?: boolean }>().comment);
        await (isComment ? ctx.api.deleteComment(id) : ctx.api.deletePost(id));
        ctx.print(null, () => `Deleted ${isComment ? 'comment' : 'post'} #${id}.`);
      }),
    );

  command(program, 'like', 'like a post, or unlike it if you already do (--comment: a comment)')
    .argument('<id>', 'the post id (the comment id with --comment)', positiveInt)
    .option('--comment', 'the id is a comment')
    .action(
      authed(async (ctx, id: number) => {
        const res = await (ctx.opts<{ comment?: boolean }>().comment ? ctx.api.likeComment(id) : ctx.api.likePost(id));
        ctx.print(res, () => `${res.message}.`);
      }),
    );

  command(program, 'comment', 'comment on a post')
    .argument('<post-id>', POST_ID, positiveInt)
    .argument('<text...>', 'what to say')
    .action(
      authed(async (ctx, postId: number, words: string[]) => {
        const comment = await ctx.api.createComment(postId, joinWords(words));
        ctx.print(comment, () => `Commented on #${postId}:\n${ctx.fmt.comment(comment)}`);
      }),
    );
}
