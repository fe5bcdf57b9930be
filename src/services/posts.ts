/** Posts (text and/or an image), the feed, and post likes. */
import { Op, literal, type FindOptions, type WhereOptions } from 'sequelize';
import type { ServiceDeps } from './deps.js';
import { Post, PostLike, type Comment, type User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import type { Upload } from '../media/store.js';
import { pageQuery, toPage, type Page, type PageRequest } from './pagination.js';
import { countOf, likeStats, toggleLike } from './likes.js';
import { authorInclude, type CommentService } from './comments.js';

export const MAX_POST_LENGTH = 5000;
/** How many of the newest comments travel inside each post. */
export const NESTED_COMMENTS = 50;

/** A post with what its presenter shows besides its own columns. */
export interface PostView {
  post: Post;
  /** The newest comments, oldest first. */
  comments: Comment[];
}

export interface PostChanges {
  content?: string;
  /** Removes the current image (`image: null` in JSON, an empty `image` form field). */
  clearImage?: boolean;
}

export class PostService {
  constructor(private readonly deps: ServiceDeps, private readonly comments: CommentService) {}

  private query(viewerId: number | null): Pick<FindOptions, 'attributes' | 'include'> {
    return {
      attributes: { include: [...likeStats('post_likes', 'post_id', 'Post', viewerId), countOf('comments', 'post_id', 'Post', 'commentsCount')] },
      include: [authorInclude],
    };
  }

  /** Loads the nested comments of all the posts at once and pairs them up. */
  private async views(posts: Post[], viewerId: number | null): Promise<PostView[]> {
    const comments = await this.comments.latestFor(posts.map((p) => p.id), viewerId, NESTED_COMMENTS);
    return posts.map((post) => ({ post, comments: comments.get(post.id) ?? [] }));
  }

  private async page(where: WhereOptions, viewerId: number, page: PageRequest): Promise<Page<PostView>> {
    const q = pageQuery(page);
    const rows = await Post.findAll({ ...q, where: { ...q.where, ...where }, ...this.query(viewerId) });
    const { items, nextBefore } = toPage(rows, page, (p) => p.id);
    return { items: await this.views(items, viewerId), nextBefore };
  }

  async get(id: number, viewerId: number | null): Promise<PostView> {
    const post = await Post.findByPk(id, this.query(viewerId));
    if (!post) throw new NotFound();
    const [view] = await this.views([post], viewerId);
    return view;
  }

  /** Every post, newest first. */
  list(viewerId: number, page: PageRequest): Promise<Page<PostView>> {
    return this.page({}, viewerId, page);
  }

  /** Posts by the people the viewer follows, and the viewer's own. */
  feed(viewerId: number, page: PageRequest): Promise<Page<PostView>> {
    const id = Number(viewerId);
    return this.page({ [Op.or]: [{ authorId: id }, { authorId: { [Op.in]: literal(`(SELECT following_id FROM follows WHERE follower_id = ${id})`) } }] }, id, page);
  }

  myPosts(viewerId: number, page: PageRequest): Promise<Page<PostView>> {
    return this.page({ authorId: viewerId }, viewerId, page);
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
    if (!(await Post.count({ where: { id } }))) throw new NotFound();
    return toggleLike(PostLike, { postId: id, userId: actor.id });
  }
}
