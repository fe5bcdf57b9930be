/** The feed entry: the newest posts of the people we follow (and ours), kept live while shown. */
import type { Post } from '../client/types.js';
import type { PostCreatedEvent } from '../../src/schemas/protocol.js';
import type { ChatContext } from './context.js';
import { mergeById } from './entries.js';

const FEED_POSTS = 20;

export class Feed {
  posts: Post[] = [];

  constructor(private readonly chat: ChatContext) {}

  async load(): Promise<void> {
    this.posts = await this.chat.api.feed(FEED_POSTS);
  }

  /** A post by someone followed (or by us elsewhere): fetched and put in the shown feed. The feed is loaded anew whenever opened. */
  async created(e: PostCreatedEvent): Promise<void> {
    if (this.chat.open !== 'feed') return;
    let post: Post;
    try {
      post = await this.chat.api.post(e.post_id);
    } catch {
      // Deleted meanwhile, or the server went away: the next load of the feed shows the truth.
      return;
    }
    this.posts = mergeById(this.posts, [post]).reverse().slice(0, FEED_POSTS);
    this.chat.changed();
  }
}
