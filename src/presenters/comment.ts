import { bool, num } from '../db/sql.js';
import { authorOf, type CommentRow } from '../db/rows.js';
import { iso, type Viewer } from './context.js';
import { presentAuthor } from './user.js';

/** Everything but the viewer's own flag (`user_liked`, the last field): the same for every viewer. */
export function commentFields(comment: CommentRow, viewer: Viewer) {
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
  };
}

export function presentComment(comment: CommentRow, viewer: Viewer) {
  return { ...commentFields(comment, viewer), user_liked: bool(comment.userLiked) };
}
