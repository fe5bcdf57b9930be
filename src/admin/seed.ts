/**
 * Demo data: users, follows, posts, likes, comments and direct messages, generated
 * deterministically (seeded PRNG) and inserted in bulk. Used by `jvai admin seed` and by
 * the HTTP bench, so it must stay fast at 10k users / 100k posts.
 */
import { Op, type CreationAttributes, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import { Comment, DirectMessage, Follow, Post, PostLike, User } from '../models/index.js';
import { hashPassword } from '../services/passwords.js';
import { analyze } from '../db/readModels.js';
import { transaction } from '../db/connection.js';

/** Every demo account's password (it passes the same rules as a registration). */
export const DEMO_PASSWORD = 'jvai-demo-password';

export interface SeedCounts {
  users: number;
  posts: number;
  likes: number;
  comments: number;
  follows: number;
  messages: number;
}

export type SeedStage = keyof SeedCounts;

export interface SeedOptions {
  /** Called after every inserted chunk, with the rows done so far in this stage. */
  onProgress?: (stage: SeedStage, done: number, total: number) => void;
  /** Rows per INSERT. */
  chunkSize?: number;
  /** PRNG seed: the same seed on an empty database gives the same data. */
  seed?: number;
}

export interface SeedResult {
  /** Rows actually inserted (likes/follows are capped by the pairs that exist). */
  counts: SeedCounts;
  /** The first and last demo usernames created (null when none were); all share DEMO_PASSWORD. */
  firstUsername: string | null;
  lastUsername: string | null;
  password: string;
}

const FIRST_NAMES = ['Ada', 'Alan', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Guido', 'Hedy', 'John', 'Katherine', 'Niklaus', 'Radia', 'Tim'];
const LAST_NAMES = ['Lovelace', 'Turing', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'van Rossum', 'Lamarr', 'McCarthy', 'Johnson', 'Wirth', 'Perlman', 'Berners-Lee'];
const WORDS = (
  'the a of and to in is on for with that this it was at by from as be have are not but or an they we you ' +
  'code coffee server socket message night morning release bug fix deploy garden bike river book music photo ' +
  'today tomorrow weekend trip lunch idea question answer friend team meeting weather rain sun city park'
).split(' ');

/** mulberry32: tiny, fast and good enough to spread demo data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** items[i] for an index drawn within bounds: out of bounds is a bug in this generator. */
function nth<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new RangeError(`index ${i} is outside 0..${items.length - 1}`);
  return item;
}

class Generator {
  readonly random: () => number;
  constructor(seed: number) {
    this.random = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return nth(items, this.int(items.length));
  }
  /** Skewed towards 0: a few popular accounts, a long tail, as in real networks. */
  popular(n: number): number {
    return Math.floor(n * this.random() ** 2);
  }
  sentence(min: number, max: number): string {
    const words = Array.from({ length: min + this.int(max - min + 1) }, () => this.pick(WORDS));
    const text = words.join(' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  }
}

/** Draws `count` distinct pairs (capped at the `limit` that exist); `width` bounds the second member. */
function distinctPairs(count: number, limit: number, width: number, draw: () => [number, number]): [number, number][] {
  const seen = new Set<number>();
  const pairs: [number, number][] = [];
  const target = Math.min(count, limit);
  while (pairs.length < target) {
    const [a, b] = draw();
    const key = a * width + b;
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push([a, b]);
  }
  return pairs;
}

/** Spreads n timestamps evenly (oldest first) over the last `days` days. */
function timeline(n: number, days: number): (i: number) => Date {
  const end = Date.now() - 60_000;
  const span = days * 86_400_000;
  return (i) => new Date(end - span + Math.floor(((i + 1) * span) / (n + 1)));
}

/** Next free demo number, so seeding twice adds users instead of failing on usernames. */
async function nextDemoNumber(): Promise<number> {
  const rows = await User.findAll({ attributes: ['usernameLower'], where: { usernameLower: { [Op.like]: 'demo%' } }, raw: true });
  let max = 0;
  for (const { usernameLower } of rows) {
    const m = /^demo(\d+)$/.exec(usernameLower);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max + 1;
}

export async function seedDemoData(sequelize: Sequelize, wanted: SeedCounts, options: SeedOptions = {}): Promise<SeedResult> {
  const { onProgress, chunkSize = 1000, seed = 42 } = options;
  const gen = new Generator(seed);

  /** Inserts rows chunk by chunk, each chunk in its own transaction; returns the new ids in order. */
  async function insert<M extends Model & { id: number }>(stage: SeedStage, model: ModelStatic<M>, rows: CreationAttributes<M>[]): Promise<number[]> {
    const ids: number[] = [];
    onProgress?.(stage, 0, rows.length);
    for (let start = 0; start < rows.length; start += chunkSize) {
      const chunk = rows.slice(start, start + chunkSize);
      const created = await transaction(sequelize, (transaction) => model.bulkCreate(chunk, { transaction, returning: ['id'] }));
      for (const row of created) ids.push(row.id);
      onProgress?.(stage, start + chunk.length, rows.length);
    }
    return ids;
  }

  const n = Math.max(0, Math.floor(wanted.users));
  const first = await nextDemoNumber();
  // Hashing is deliberately slow (argon2): once for all demo users.
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  const joined = timeline(n, 120);
  const userIds = await insert('users', User, Array.from({ length: n }, (_, i) => {
    const username = `demo${first + i}`;
    return {
      username,
      usernameLower: username,
      email: `${username}@example.com`,
      passwordHash,
      firstName: gen.pick(FIRST_NAMES),
      lastName: gen.pick(LAST_NAMES),
      bio: i % 3 === 0 ? gen.sentence(4, 12) : null,
      createdAt: joined(i),
      updatedAt: joined(i),
    };
  }));

  // Demo user #1 follows up to 150 accounts, so the printed login has a lively feed.
  const followCount = n > 1 ? Math.floor(wanted.follows) : 0;
  const firstFollows = Math.min(followCount, n - 1, 150);
  let k = 0;
  const follows = distinctPairs(followCount, n * (n - 1), n, () => {
    if (k < firstFollows) return [0, ++k];
    const a = gen.int(n);
    let b = gen.popular(n);
    if (b === a) b = (b + 1) % n;
    return [a, b];
  });
  const followed = timeline(follows.length, 90);
  await insert('follows', Follow, follows.map(([a, b], i) => ({ followerId: nth(userIds, a), followingId: nth(userIds, b), createdAt: followed(i) })));

  const p = n ? Math.floor(wanted.posts) : 0;
  const posted = timeline(p, 60);
  const postTimes: Date[] = [];
  const postIds = await insert('posts', Post, Array.from({ length: p }, (_, i) => {
    const createdAt = posted(i);
    postTimes.push(createdAt);
    return { authorId: nth(userIds, gen.int(n)), content: gen.sentence(5, 40), createdAt, updatedAt: createdAt };
  }));

  // Sorted by post: the (post, user) index fills in order, and like times roughly follow post times.
  const likes = distinctPairs(p ? Math.floor(wanted.likes) : 0, p * n, n, () => [gen.int(p), gen.int(n)]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const liked = timeline(likes.length, 60);
  await insert('likes', PostLike, likes.map(([post, user], i) => ({ postId: nth(postIds, post), userId: nth(userIds, user), createdAt: liked(i) })));

  // Comments come a little after their post, sorted so that ids follow time as in real use.
  const now = Date.now();
  const comments = Array.from({ length: p ? Math.floor(wanted.comments) : 0 }, () => {
    const post = gen.int(p);
    const at = new Date(Math.min(now - 1000, nth(postTimes, post).getTime() + gen.int(86_400_000)));
    return { postId: nth(postIds, post), authorId: nth(userIds, gen.int(n)), content: gen.sentence(2, 20), createdAt: at, updatedAt: at };
  }).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  await insert('comments', Comment, comments);

  // One message in ten is between demo user #1 and one of 30 friends: real conversations to show.
  const m = n > 1 ? Math.floor(wanted.messages) : 0;
  const sent = timeline(m, 30);
  const readBefore = Math.floor(m * 0.95);
  await insert('messages', DirectMessage, Array.from({ length: m }, (_, i) => {
    const withFirst = gen.random() < 0.1;
    let a = withFirst ? 0 : gen.popular(n);
    let b = withFirst ? 1 + gen.int(Math.min(n - 1, 30)) : gen.int(n);
    if (b === a) b = (b + 1) % n;
    if (gen.random() < 0.5) [a, b] = [b, a];
    const createdAt = sent(i);
    const isRead = i < readBefore;
    return { senderId: nth(userIds, a), receiverId: nth(userIds, b), content: gen.sentence(1, 25), isRead, readAt: isRead ? new Date(createdAt.getTime() + 60_000) : null, createdAt };
  }));

  // A bulk load leaves the planner's statistics stale (PostgreSQL's feed ran 100× slower).
  await analyze(sequelize);
  return {
    counts: { users: n, follows: follows.length, posts: p, likes: likes.length, comments: comments.length, messages: m },
    firstUsername: n ? `demo${first}` : null,
    lastUsername: n ? `demo${first + n - 1}` : null,
    password: DEMO_PASSWORD,
  };
}
