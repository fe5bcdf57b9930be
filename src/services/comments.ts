/** Comments on posts and their likes. */
import type { Sequelize } from 'sequelize';
import { Comment, CommentLike, Post, type User } from '../models/index.js';
import { NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { sqlOf } from '../db/connection.js';
import type { Sql } from '../db/sql.js';
import { keyset, toPage, type Page, type PageRequest } from './pagination.js';
import { toggleLike } from './likes.js';
import { checkedWrite } from './references.js';
import { AUTHOR_COLUMNS, COMMENT_LIKES, idsParam, viewerMarks } from './reads.js';
import type { CommentRow } from '../db/rows.js';

/** A comment's columns (likes_count is stored), from `comments` as `c` and its author as `a`. */
const COMMENT_COLUMNS = `c.id, c.post_id AS "postId", c.author_id AS "authorId", c.content, c.created_at AS "createdAt",
  c.updated_at AS "updatedAt", c.likes_count AS "likesCount", ${AUTHOR_COLUMNS}`;

export class CommentService {
  private readonly sql: Sql;

  constructor(sequelize: Sequelize) {
    this.sql = sqlOf(sequelize);
  }

  /** Sets userLiked on every row from one query. */
  private async markLiked(rows: CommentRow[], viewerId: number | null): Promise<CommentRow[]> {
    const liked = await viewerMarks(this.sql, COMMENT_LIKES, viewerId, rows.map((c) => c.id));
    for (const row of rows) row.userLiked = liked.has(row.id);
    return rows;
  }

  async get(id: number, viewerId: number | null): Promise<CommentRow> {
    const row = await this.sql.read.get<CommentRow>(`SELECT ${COMMENT_COLUMNS} FROM comments c JOIN users a ON a.id = c.author_id WHERE c.id = ?`, [id]);
    if (!row) throw new NotFound();
    await this.markLiked([row], viewerId);
    return row;
  }

  async create(actor: User, postId: number, content: string): Promise<CommentRow> {
    const postExists = async () => {
      if (!(await Post.count({ where: { id: postId } }))) throw ValidationError.unknownPk('post', postId);
    };
    const comment = await checkedWrite(postExists, () => Comment.create({ postId, authorId: actor.id, content }));
    return this.get(comment.id, actor.id);
  }

  /** A post's comments, newest first. An unknown post simply has none, as with a DRF filter. */
  async listByPost(postId: number, viewerId: number, page: PageRequest): Promise<Page<CommentRow>> {
    const k = keyset(this.sql, page, 'c.id');
    const rows = await this.sql.read.all<CommentRow>(
      `SELECT ${COMMENT_COLUMNS} FROM comments c JOIN users a ON a.id = c.author_id WHERE c.post_id = ?${k.and}${k.order}`,
      [postId, ...k.params],
    );
    return toPage(await this.markLiked(rows, viewerId), page, (c) => c.id);
  }

  /**
   * The newest `perPost` comments of each post, oldest first, in one query whose cost follows
   * the page: one `ORDER BY id DESC LIMIT n` walk of the (post_id, id) index per post — a
   * LATERAL join on PostgreSQL, a correlated `IN` on SQLite — never every comment of the posts.
   */
  async latestFor(postIds: number[], viewerId: number | null, perPost = 50): Promise<Map<number, CommentRow[]>> {
    const byPost = new Map<number, CommentRow[]>(postIds.map((id) => [id, []]));
    if (!postIds.length) return byPost;
    const sql = this.sql;
    const ids = idsParam(sql, postIds);
    const limit = sql.limit(perPost);
    const query =
      sql.dialect === 'postgres'
        ? `SELECT ${COMMENT_COLUMNS} FROM unnest(?::int[]) AS p(id)
             CROSS JOIN LATERAL (SELECT * FROM comments x WHERE x.post_id = p.id ORDER BY x.id DESC ${limit.sql}) c
             JOIN users a ON a.id = c.author_id`
        : `SELECT ${COMMENT_COLUMNS} FROM json_each(?) p
             JOIN comments c ON c.id IN (SELECT x.id FROM comments x WHERE x.post_id = p.value ORDER BY x.id DESC ${limit.sql})
             JOIN users a ON a.id = c.author_id`;
    const rows = await sql.read.all<CommentRow>(query, [ids.param, ...limit.params]);
    await this.markLiked(rows.sort((x, y) => x.id - y.id), viewerId);
    for (const row of rows) byPost.get(row.postId)?.push(row);
    return byPost;
  }

  private async owned(actor: User, id: number): Promise<Comment> {
    const comment = await Comment.findByPk(id);
    if (!comment) throw new NotFound();
    if (comment.authorId !== actor.id) throw new PermissionDenied();
    return comment;
  }

  async update(actor: User, id: number, content: string | undefined): Promise<CommentRow> {
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
    return toggleLike(Comment, id, CommentLike, { commentId: id, userId: actor.id });
  }
}
