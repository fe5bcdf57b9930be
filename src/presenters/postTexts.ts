/**
 * Posts rendered to JSON once and reused for every viewer and page that shows them — the
 * serializer cache Mastodon keeps per status. What every viewer sees alike (the post, its author,
 * its newest comments) is kept as text; the viewer's own flags (`user_liked` on the post and on
 * each comment) are filled in per request. An entry is used only while its stamp matches the
 * post's row (counters and render_version: triggers bump it on every save of the post and when
 * any of its comments changes), so edits, likes, comments and deletions — by any process, `jvai admin` included —
 * show on the very next read. What the row cannot tell, a changed author profile, empties the
 * cache through the bus (`user.updated`).
 */
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { bool, num } from '../db/sql.js';
import type { PostRow, PostStampRow, PostView } from '../db/rows.js';
import type { RenderedItems, Viewer } from './context.js';
import { commentFields } from './comment.js';
import { postFields } from './post.js';

/** Where the rendered posts come from when the cache lacks them. */
export interface PostSource {
  load(ids: readonly number[]): Promise<PostView[]>;
}

interface RenderedPost {
  stamp: string;
  /** `{"id":…,"comments_count":n` — the post's JSON up to its `user_liked`. */
  head: Buffer;
  /** Each nested comment's JSON up to its `user_liked`. */
  comments: { id: number; head: Buffer }[];
}

/** Bytes of JSON kept at most: posts with many comments weigh more. */
const MAX_BYTES = 32 * 1024 * 1024;
const MAX_PAGE_BYTES = 8 * 1024 * 1024;

const stampOf = (row: Pick<PostRow | PostStampRow, 'likesCount' | 'commentsCount' | 'renderVersion'>): string =>
  `${num(row.likesCount)}|${num(row.commentsCount)}|${num(row.renderVersion)}`;

/** An object's JSON without its closing brace, for the fields that follow to be appended. */
const open = (fields: object): Buffer => Buffer.from(JSON.stringify(fields).slice(0, -1));

/** The viewer's flag, closing a comment, and the same opening the post's comments. */
const COMMENT_LIKED = { true: Buffer.from(',"user_liked":true}'), false: Buffer.from(',"user_liked":false}') };
const POST_LIKED = { true: Buffer.from(',"user_liked":true,"comments":['), false: Buffer.from(',"user_liked":false,"comments":[') };
const COMMA = Buffer.from(',');
const END = Buffer.from(']}');

export class PostTexts {
  private readonly cache = new LRUCache<string, RenderedPost>({ maxSize: MAX_BYTES, sizeCalculation: sizeOf });
  /** Pages as last assembled, by version: a feed read again unchanged is not put together again. */
  private readonly pages = new LRUCache<string, Buffer[][]>({ maxSize: MAX_PAGE_BYTES, sizeCalculation: (items, version) => items.reduce((n, [post]) => n + post!.length, version.length) });
  private readonly id = crypto.randomUUID();
  private generation = 0;

  /** Names this cache's renderings as they are now: it changes whenever clear() forgets them. */
  get generationName(): string {
    return `${this.id}:${this.generation}`;
  }

  /** Forgets every rendering (an author's name or picture changed). */
  clear(): void {
    this.generation++;
    this.cache.clear();
    this.pages.clear();
  }

  /**
   * The JSON of each listed post still there, in order, as `viewer` sees it: one Buffer per post.
   * Its version names the bytes: the posts' stamps and the viewer's flags as the rows say them,
   * within one generation of this cache (a stamp does not show an author's new name; emptying the
   * cache starts a new generation) and one base URL. A page whose version was assembled before is
   * sent as it was — the rows' query still runs on every request, so nothing stale is kept.
   */
  async posts(stamps: readonly PostStampRow[], viewer: Viewer, source: PostSource): Promise<RenderedItems> {
    const { generation } = this;
    let version = `${this.generationName}:${viewer.baseUrl}`;
    for (const row of stamps) version += `,${row.id}@${stampOf(row)}${bool(row.userLiked) ? '+' : '-'}${row.likedComments ?? ''}`;
    const assembled = this.pages.get(version);
    if (assembled) return { items: assembled, version };

    const found = await this.renderings(stamps, viewer, source);
    // Kept only if the bytes are what the rows said: no post deleted or changed between the two reads.
    let exact = true;
    const items: Buffer[][] = [];
    for (const row of stamps) {
      const rendered = found.get(row.id);
      if (!rendered) {
        exact = false;
        continue;
      }
      if (rendered.stamp !== stampOf(row)) {
        exact = false;
        version += `,${row.id}=${rendered.stamp}`;
      }
      items.push([assemble(rendered, row)]);
    }
    if (!exact) return { items, version: `${version},partial`, partial: true };
    if (generation === this.generation) this.pages.set(version, items);
    return { items, version };
  }

  /** Each listed post's rendering: cached while its stamp matches, loaded and rendered otherwise. */
  private async renderings(stamps: readonly PostStampRow[], viewer: Viewer, source: PostSource): Promise<Map<number, RenderedPost>> {
    // Media URLs are absolute: a rendering belongs to the base URL it was made for.
    const keyOf = (id: number) => `${viewer.baseUrl}\n${id}`;
    const { generation } = this;
    const found = new Map<number, RenderedPost>();
    const missing: number[] = [];
    for (const row of stamps) {
      const cached = this.cache.get(keyOf(row.id));
      if (cached?.stamp === stampOf(row)) found.set(row.id, cached);
      else missing.push(row.id);
    }
    for (const view of await source.load(missing)) {
      const rendered = render(view, viewer);
      // Emptied while the rows were read: they may show an author as they were before.
      if (generation === this.generation) this.cache.set(keyOf(view.post.id), rendered);
      found.set(view.post.id, rendered);
    }
    return found;
  }
}

/** A post's JSON with the viewer's flags (on the post and on each nested comment) filled in. */
function assemble(rendered: RenderedPost, row: PostStampRow): Buffer {
  const liked = new Set(row.likedComments?.split(',').map(Number));
  const chunks = [rendered.head, POST_LIKED[`${bool(row.userLiked)}`]];
  rendered.comments.forEach((c, i) => {
    if (i) chunks.push(COMMA);
    chunks.push(c.head, COMMENT_LIKED[`${liked.has(c.id)}`]);
  });
  chunks.push(END);
  return Buffer.concat(chunks);
}

function render({ post, comments }: PostView, viewer: Viewer): RenderedPost {
  return { stamp: stampOf(post), head: open(postFields(post, viewer)), comments: comments.map((c) => ({ id: c.id, head: open(commentFields(c, viewer)) })) };
}

function sizeOf(rendered: RenderedPost): number {
  return rendered.comments.reduce((n, c) => n + c.head.length, rendered.head.length + rendered.stamp.length) || 1;
}
