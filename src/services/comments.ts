/** Comments on posts and their likes. */
import { Op, literal, type FindOptions, type IncludeOptions } from 'sequelize';
import { Comment, CommentLike, Post, User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { pageQuery, toPage, type Page, type PageRequest } from './pagination.js';
import { likeStats, toggleLike } from './likes.js';

/** The author columns a nested author needs (id, username, full name, avatar). */
export const authorInclude: IncludeOptions = { model: User, as: 'author', attributes: ['id', 'username', 'firstName', 'lastName', 'profilePicture'] };

/** Everything a presented comment needs, for any number of comments in one query. */
function commentQuery(viewerId: number | null): Pick<FindOptions, 'attributes' | 'include'> {
  return { attributes: { include: likeStats('comment_likes', 'comment_id', 'Comment', viewerId) }, include: [authorInclude] };
}

export class CommentService {
  async get(id: number, viewerId: number | null): Promise<Comment> {
    const comment = await Comment.findByPk(id, commentQuery(viewerId));
    if (!comment) throw new NotFound();
    return comment;
  }

  async create(actor: User, postId: number, content: string): Promise<Comment> {
    if (!(await Post.count({ where: { id: postId } }))) throw ValidationError.field('post', `Invalid pk "${postId}" - object does not exist.`);
    const comment = await Comment.create({ postId, authorId: actor.id, content });
    return this.get(comment.id, actor.id);
  }

  /** A post's comments, newest first. An unknown post simply has none, as with a DRF filter. */
  async listByPost(postId: number, viewerId: number, page: PageRequest): Promise<Page<Comment>> {
    const q = pageQuery(page);
    const rows = await Comment.findAll({ ...q, where: { ...q.where, postId }, ...commentQuery(viewerId) });
    return toPage(rows, page, (c) => c.id);
  }

  /**
   * The newest `perPost` comments of each post, oldest first, in one query: a window function
   * ranks each post's comments, so a page of posts never costs a query per post.
   */
  async latestFor(postIds: number[], viewerId: number | null, perPost = 50): Promise<Map<number, Comment[]>> {
    const byPost = new Map<number, Comment[]>(postIds.map((id) => [id, []]));
    if (!postIds.length) return byPost;
    const ranked = `(SELECT ranked.id FROM (
        SELECT c.id, ROW_NUMBER() OVER (PARTITION BY c.post_id ORDER BY c.id DESC) AS rn
        FROM comments c WHERE c.post_id IN (${postIds.map(Number).join(',')})
      ) ranked WHERE ranked.rn <= ${Number(perPost)})`;
    const rows = await Comment.findAll({ where: { id: { [Op.in]: literal(ranked) } }, order: [['id', 'ASC']], ...commentQuery(viewerId) });
    for (const row of rows) byPost.get(row.postId)?.push(row);
    return byPost;
  }

  private async owned(actor: User, id: number): Promise<Comment> {
    const comment = await Comment.findByPk(id);
    if (!comment) throw new NotFound();
    if (comment.authorId !== actor.id) throw new PermissionDenied();
    return comment;
  }

  async update(actor: User, id: number, content: string | undefined): Promise<Comment> {
    const comment = await this.owned(actor, id);
    if (content !== undefined) comment.content = content;
    // Stamp updated_at on every save, as Django's auto_now does.
    comment.changed('updatedAt', true);
    await comment.save();
    return this.get(id, actor.id);
  }

  async delete(actor: User, id: number): Promise<void> {
    const comment = await this.owned(actor, id);
    // Its likes go with it through the foreign key's ON DELETE CASCADE.
    await comment.destroy();
  }

  /** Likes or unlikes a comment; returns whether the actor now likes it. */
  async toggleLike(actor: User, id: number): Promise<boolean> {
    if (!(await Comment.count({ where: { id } }))) throw new NotFound();
    return toggleLike(CommentLike, { commentId: id, userId: actor.id });
  }
}
