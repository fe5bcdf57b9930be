import { bool, num } from '../db/sql.js';
import { authorOf, type CommentRow } from '../services/rows.js';
import { iso, type Viewer } from './context.js';
import { presentAuthor } from './user.js';

export function presentComment(comment: CommentRow, viewer: Viewer) {
  return {
    id: comment.id,
    post: comment.postId,
    author: comment.authorId,
    author_username: comment.authorUsername,
    author_details: presentAuthor(authorOf(comment), viewer),
    content: comment.content,
    created_at: iso(comment.createdAt),
    updated_at: iso(comment.updatedAt),
    likes_count: num(comment.likesCount),
    user_liked: bool(comment.userLiked),
  };
}
