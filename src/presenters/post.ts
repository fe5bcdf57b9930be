import type { PostView } from '../services/posts.js';
import { iso, type Viewer } from './context.js';
import { presentAuthor } from './user.js';
import { authorOf, countAttr, flagAttr, presentComment } from './comment.js';

export function presentPost({ post, comments }: PostView, viewer: Viewer) {
  const author = authorOf(post);
  return {
    id: post.id,
    author: post.authorId,
    author_details: presentAuthor(author, viewer),
    author_username: author.username,
    content: post.content,
    image: viewer.media.url(post.image ?? null, viewer.baseUrl),
    created_at: iso(post.createdAt),
    updated_at: iso(post.updatedAt),
    likes_count: countAttr(post, 'likesCount'),
    comments_count: countAttr(post, 'commentsCount'),
    user_liked: flagAttr(post, 'userLiked'),
    comments: comments.map((c) => presentComment(c, viewer)),
  };
}
