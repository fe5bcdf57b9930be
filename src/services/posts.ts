/** Posts (text and/or an image), the feed, and post likes. */
import type { ServiceDeps } from './deps.js';
import { Post, PostLike, type User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import type { Upload } from '../media/store.js';
import { sqlOf } from '../db/connection.js';
import type { Dialect, Sql, SqlValue } from '../db/sql.js';
import { FingerprintedPage, keyset, toPage, type Page, type PageRequest } from './pagination.js';
import { toggleLike } from './likes.js';
import type { CommentService } from './comments.js';
import { AUTHOR_COLUMNS, COMMENT_LIKES, idsParam, packedPage, packedRows, POST_LIKES, viewerMarks } from './reads.js';
import type { PostRow, PostStampRow, PostView } from '../db/rows.js';

export const MAX_POST_LENGTH = 5000;
/** How many of the newest comments travel inside each post. */
export const NESTED_COMMENTS = 50;

export interface PostChanges {
  content?: string;
  /** Removes the current image (`image: null` in JSON, an empty `image` form field). */
  clearImage?: boolean;
}

/** A post's columns (likes and comments counts are stored), from `posts` as `p` and its author as `a`. */
const POST_COLUMNS = `p.id, p.author_id AS "authorId", p.content, p.image, p.created_at AS "createdAt", p.updated_at AS "updatedAt",
  p.likes_count AS "likesCount", p.comments_count AS "commentsCount", p.render_version AS "renderVersion", ${AUTHOR_COLUMNS}`;
/**
 * What a page lists per post (see PostStampRow): one row each, no author, no text; with the
 * viewer's like and which of the post's comments they like (bound: the viewer twice). Both are
 * index probes from the post's side, bounded by the page: PostgreSQL turned an EXISTS into a hash
 * of every like the viewer ever gave (4.7 ms a page for someone with 20,000 likes, against 0.28 ms
 * now); a scalar subquery is never hashed. Liked comments beyond the nested ones are listed too,
 * and only mark the comments shown.
 */
function stampColumns(dialect: Dialect) {
  const list = dialect === 'postgres' ? "string_agg(cl.comment_id::text, ',')" : 'group_concat(cl.comment_id)';
  return {
    id: 'p.id',
    likesCount: 'p.likes_count',
    commentsCount: 'p.comments_count',
    renderVersion: 'p.render_version',
    userLiked: '(SELECT 1 FROM post_likes l WHERE l.post_id = p.id AND l.user_id = ?) IS NOT NULL',
    likedComments: `(SELECT ${list} FROM comment_likes cl WHERE cl.user_id = ? AND cl.post_id = p.id)`,
  } satisfies Record<keyof PostStampRow, string>;
}
const FROM_POSTS = 'FROM posts p';
const FROM_TIMELINE = 'FROM home_timeline h JOIN posts p ON p.id = h.post_id';

/**
 * Reads come in two steps, so that renderings can be cached per post (src/presenters/postTexts.ts):
 * a page lists stamps (ids, counters, versions and the viewer's likes), then only the posts whose
 * rendering is missing or stale are loaded in full.
 */
export class PostService {
  private readonly sql: Sql;
  private readonly stampColumns: ReturnType<typeof stampColumns>;

  constructor(private readonly deps: ServiceDeps, private readonly comments: CommentService) {
    this.sql = sqlOf(deps.sequelize);
    this.stampColumns = stampColumns(this.sql.dialect);
  }

  /** Posts in full with their newest comments, in the order of `ids` (gone ones left out); no viewer flags. */
  async load(ids: readonly number[]): Promise<PostView[]> {
    if (!ids.length) return [];
    const list = idsParam(this.sql, ids);
    // The post rows before their comments: a rendering is never newer than the stamp it is kept under.
    const rows = await this.sql.read.all<PostRow>(`SELECT ${POST_COLUMNS} FROM posts p JOIN users a ON a.id = p.author_id WHERE p.id${list.match}`, [list.param]);
    const comments = await this.comments.latestFor(rows.map((p) => p.id), null, NESTED_COMMENTS);
    const byId = new Map(rows.map((post) => [post.id, { post, comments: comments.get(post.id) ?? [] }]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** One page of stamps, newest first: `from` and `where` select the posts, `column` is the id the keyset walks. */
  private async page(from: string, where: string, params: SqlValue[], column: string, viewerId: number, page: PageRequest): Promise<Page<PostStampRow>> {
    const k = keyset(this.sql, page, column);
    const rest = `${from} WHERE ${where}${k.and}${k.order}`;
    const values = [viewerId, viewerId, ...params, ...k.params];
    // The page's stamps and the viewer's flags, as text, are what its JSON is made of (with the renderings' generation, builders.ts).
    const { rows, text } = await packedPage<PostStampRow>(this.sql, this.stampColumns, rest, values);
    return new FingerprintedPage([text], () => toPage(rows(), page, (p) => p.id));
  }

  /**
   * One post's stamp (the detail view renders through the same cache as lists), packed like a
   * page's: on SQLite one asked again before anything was committed needs no reader thread.
   */
  async stamp(id: number, viewerId: number | null): Promise<PostStampRow> {
    const [row] = await packedRows<PostStampRow>(this.sql, this.stampColumns, `${FROM_POSTS} WHERE p.id = ?`, [viewerId ?? 0, viewerId ?? 0, id]);
    if (!row) throw new NotFound();
    return row;
  }

  /** One post in full with the viewer's flags, as a write answers with it. */
  async get(id: number, viewerId: number | null): Promise<PostView> {
    const [view] = await this.load([id]);
    if (!view) throw new NotFound();
    const [liked, likedComments] = await Promise.all([
      viewerMarks(this.sql, POST_LIKES, viewerId, [id]),
      viewerMarks(this.sql, COMMENT_LIKES, viewerId, view.comments.map((c) => c.id)),
    ]);
    view.post.userLiked = liked.has(id);
    for (const comment of view.comments) comment.userLiked = likedComments.has(comment.id);
    return view;
  }

  /** Every post, newest first. */
  list(viewerId: number, page: PageRequest): Promise<Page<PostStampRow>> {
    return this.page(FROM_POSTS, '1 = 1', [], 'p.id', viewerId, page);
  }

  /**
   * Posts by the people the viewer follows, and the viewer's own: the viewer's home_timeline
   * (filled on write by triggers) read in its primary key's order, so a page costs the same
   * however many authors are followed and however much they wrote.
   */
  feed(viewerId: number, page: PageRequest): Promise<Page<PostStampRow>> {
    return this.page(FROM_TIMELINE, 'h.user_id = ?', [viewerId], 'h.post_id', viewerId, page);
  }

  myPosts(viewerId: number, page: PageRequest): Promise<Page<PostStampRow>> {
    return this.page(FROM_POSTS, 'p.author_id = ?', [viewerId], 'p.id', viewerId, page);
  }

  private static requireSomething(content: string, image: string | null | undefined): void {
    if (!content && !image) throw ValidationError.nonField('A post needs content or an image.');
  }

  async create(actor: User, content: string, upload?: Upload): Promise<PostView> {
    if (!upload) PostService.requireSomething(content, null);
    // Saving validates the image first (415/413); nothing is written when it is refused.
    const image = upload ? await this.deps.media.saveImage('posts', upload) : null;
    let post: Post;
    try {
      post = await Post.create({ authorId: actor.id, content, image });
    } catch (err) {
      await this.deps.media.remove(image);
      throw err;
    }
    await this.deps.bus.publish('post.created', { postId: post.id, authorId: actor.id });
    return this.get(post.id, actor.id);
  }

  private async owned(actor: User, id: number): Promise<Post> {
    const post = await Post.findByPk(id);
    if (!post) throw new NotFound();
    if (post.authorId !== actor.id) throw new PermissionDenied();
    return post;
  }

  /** Changes content and/or image; a replaced or cleared image file is removed once the row is saved. */
  async update(actor: User, id: number, changes: PostChanges, upload?: Upload): Promise<PostView> {
    const post = await this.owned(actor, id);
    const content = changes.content ?? post.content;
    if (!upload) PostService.requireSomething(content, changes.clearImage ? null : post.image);
    const newImage = upload ? await this.deps.media.saveImage('posts', upload) : undefined;
    const oldImage = post.image;
    try {
      post.content = content;
      if (newImage) post.image = newImage;
      else if (changes.clearImage) post.image = null;
      // Stamp updated_at on every save, as Django's auto_now does, even when nothing else changed.
      post.changed('updatedAt', true);
      await post.save();
    } catch (err) {
      await this.deps.media.remove(newImage);
      throw err;
    }
    if (oldImage !== post.image) await this.deps.media.remove(oldImage);
    return this.get(id, actor.id);
  }

  async delete(actor: User, id: number): Promise<void> {
    const post = await this.owned(actor, id);
    // Comments and likes go through ON DELETE CASCADE; the file only once the row is gone.
    await post.destroy();
    await this.deps.media.remove(post.image);
  }

  /** Likes or unlikes a post; returns whether the actor now likes it. */
  async toggleLike(actor: User, id: number): Promise<boolean> {
    return toggleLike(Post, id, PostLike, { postId: id, userId: actor.id });
  }
}
