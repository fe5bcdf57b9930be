import { bool, num } from '../db/sql.js';
import { authorOf, type PostRow, type PostView } from '../db/rows.js';
import { iso, type Viewer } from './context.js';
import { presentAuthor } from './user.js';
import { presentComment } from './comment.js';

/** Everything before the viewer's flag and the nested comments (the last two fields): the same for every viewer. */
export function postFields(post: PostRow, viewer: Viewer) {
  return {
    id: post.id,
    author: post.authorId,
    author_details: presentAuthor(authorOf(post), viewer),
    author_username: post.authorUsername,
    content: post.content,
    image: viewer.media.url(post.image ?? null, viewer.baseUrl),
    created_at: iso(post.createdAt),
    updated_at: iso(post.updatedAt),
    likes_count: num(post.likesCount),
    comments_count: num(post.commentsCount),
  };
}

export function presentPost({ post, comments }: PostView, viewer: Viewer) {
  return { ...postFields(post, viewer), user_liked: bool(post.userLiked), comments: comments.map((c) => presentComment(c, viewer)) };
}
