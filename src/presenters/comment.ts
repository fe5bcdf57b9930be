import type { Model } from 'sequelize';
import type { Comment, User } from '../models/index.js';
import { iso, type Viewer } from './context.js';
import { presentAuthor } from './user.js';

/** Subquery columns: PostgreSQL returns COUNT as a string and EXISTS as a boolean, SQLite both as numbers. */
export const countAttr = (row: Model, name: string): number => Number(row.get(name) ?? 0);
export const flagAttr = (row: Model, name: string): boolean => Boolean(Number(row.get(name) ?? 0));

/** The author loaded by the services' `authorInclude`. */
export const authorOf = (row: Model): User => row.get('author') as User;

export function presentComment(comment: Comment, viewer: Viewer) {
  const author = authorOf(comment);
  return {
    id: comment.id,
    post: comment.postId,
    author: comment.authorId,
    author_username: author.username,
    author_details: presentAuthor(author, viewer),
    content: comment.content,
    created_at: iso(comment.createdAt),
    updated_at: iso(comment.updatedAt),
    likes_count: countAttr(comment, 'likesCount'),
    user_liked: flagAttr(comment, 'userLiked'),
  };
}
