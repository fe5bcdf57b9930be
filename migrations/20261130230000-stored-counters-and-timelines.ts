/**
 * Read models kept by the database itself, so hot reads cost what a page costs, not what the
 * history costs:
 * - counters as columns (likes, comments, followers, following, members), kept by triggers;
 * - home_timeline: one row per (reader, post) for the posts in each user's feed — fan-out on
 *   write when a post is created, a backfill when someone follows, removal on unfollow;
 * - dm_conversations: one row per (user, partner) with the last message and the unread count.
 * Triggers (rather than service code) keep them right whatever writes: the API, `jvai admin`,
 * the seeder, and ON DELETE CASCADE when a user or post goes away. `jvai admin recount`
 * rebuilds them all from the source tables (src/db/readModels.ts).
 */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';
import { rebuildReadModels } from '../src/db/readModels.js';
import { createTrigger, dropTrigger, type RowTrigger } from '../src/db/triggers.js';

type Params = MigrationParams<QueryInterface>;

const counter = { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 };
const user = { type: DataTypes.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' };

const COUNTERS: [table: string, column: string][] = [
  ['users', 'followers_count'],
  ['users', 'following_count'],
  ['posts', 'likes_count'],
  ['posts', 'comments_count'],
  ['comments', 'likes_count'],
  ['social_groups', 'members_count'],
];

/** A counter on `target` that follows inserts and deletes of rows in `source` (FK column `key`). */
interface CounterTrigger {
  source: string;
  key: string;
  target: string;
  column: string;
}

const COUNTER_TRIGGERS: CounterTrigger[] = [
  { source: 'post_likes', key: 'post_id', target: 'posts', column: 'likes_count' },
  { source: 'comments', key: 'post_id', target: 'posts', column: 'comments_count' },
  { source: 'comment_likes', key: 'comment_id', target: 'comments', column: 'likes_count' },
  { source: 'follows', key: 'following_id', target: 'users', column: 'followers_count' },
  { source: 'follows', key: 'follower_id', target: 'users', column: 'following_count' },
  { source: 'group_members', key: 'group_id', target: 'social_groups', column: 'members_count' },
];

/** Statements run by each trigger, per dialect-neutral event. `NEW`/`OLD` as in both dialects. */
function triggerBodies(dialect: string): RowTrigger[] {
  const greatest = dialect === 'postgres' ? 'GREATEST' : 'MAX';
  const counters = COUNTER_TRIGGERS.flatMap(({ source, key, target, column }) => [
    { name: `${source}_${column}_ins`, table: source, event: 'INSERT' as const, body: [`UPDATE ${target} SET ${column} = ${column} + 1 WHERE id = NEW.${key}`] },
    { name: `${source}_${column}_del`, table: source, event: 'DELETE' as const, body: [`UPDATE ${target} SET ${column} = ${column} - 1 WHERE id = OLD.${key}`] },
  ]);
  return [
    ...counters,
    {
      name: 'posts_timeline_ins',
      table: 'posts',
      event: 'INSERT',
      body: [
        'INSERT INTO home_timeline (user_id, post_id) SELECT follower_id, NEW.id FROM follows WHERE following_id = NEW.author_id',
        'INSERT INTO home_timeline (user_id, post_id) VALUES (NEW.author_id, NEW.id)',
      ],
    },
    {
      name: 'follows_timeline_ins',
      table: 'follows',
      event: 'INSERT',
      body: ['INSERT INTO home_timeline (user_id, post_id) SELECT NEW.follower_id, p.id FROM posts p WHERE p.author_id = NEW.following_id ON CONFLICT DO NOTHING'],
    },
    {
      name: 'follows_timeline_del',
      table: 'follows',
      event: 'DELETE',
      body: ['DELETE FROM home_timeline WHERE user_id = OLD.follower_id AND post_id IN (SELECT id FROM posts WHERE author_id = OLD.following_id)'],
    },
    {
      name: 'dm_conversations_ins',
      table: 'direct_messages',
      event: 'INSERT',
      body: [
        `INSERT INTO dm_conversations (user_id, partner_id, last_message_id, unread_count) VALUES (NEW.sender_id, NEW.receiver_id, NEW.id, 0)
           ON CONFLICT (user_id, partner_id) DO UPDATE SET last_message_id = ${greatest}(dm_conversations.last_message_id, excluded.last_message_id)`,
        `INSERT INTO dm_conversations (user_id, partner_id, last_message_id, unread_count)
           VALUES (NEW.receiver_id, NEW.sender_id, NEW.id, CASE WHEN NEW.is_read THEN 0 ELSE 1 END)
           ON CONFLICT (user_id, partner_id) DO UPDATE SET last_message_id = ${greatest}(dm_conversations.last_message_id, excluded.last_message_id),
              unread_count = dm_conversations.unread_count + excluded.unread_count`,
      ],
    },
    {
      name: 'dm_conversations_read',
      table: 'direct_messages',
      event: 'UPDATE OF is_read',
      when: 'OLD.is_read <> NEW.is_read',
      body: [
        'UPDATE dm_conversations SET unread_count = unread_count + (CASE WHEN NEW.is_read THEN -1 ELSE 1 END) WHERE user_id = NEW.receiver_id AND partner_id = NEW.sender_id',
      ],
    },
  ];
}

async function createTriggers(qi: QueryInterface): Promise<void> {
  for (const t of triggerBodies(qi.sequelize.getDialect())) await createTrigger(qi, t);
}

async function dropTriggers(qi: QueryInterface): Promise<void> {
  for (const t of triggerBodies(qi.sequelize.getDialect())) await dropTrigger(qi, t);
}

export async function up({ context: qi }: Params): Promise<void> {
  for (const [table, column] of COUNTERS) await qi.addColumn(table, column, counter);

  await qi.createTable('home_timeline', {
    user_id: { ...user, primaryKey: true },
    post_id: { type: DataTypes.INTEGER, allowNull: false, primaryKey: true, references: { model: 'posts', key: 'id' }, onDelete: 'CASCADE' },
  });
  // Deleting a post cascades here by post_id.
  await qi.addIndex('home_timeline', ['post_id']);

  await qi.createTable('dm_conversations', {
    user_id: { ...user, primaryKey: true },
    partner_id: { ...user, primaryKey: true },
    last_message_id: { type: DataTypes.INTEGER, allowNull: false },
    unread_count: counter,
  });
  await qi.addIndex('dm_conversations', ['user_id', 'last_message_id']);

  await createTriggers(qi);
  await rebuildReadModels(qi.sequelize);
}

export async function down({ context: qi }: Params): Promise<void> {
  await dropTriggers(qi);
  await qi.dropTable('dm_conversations');
  await qi.dropTable('home_timeline');
  for (const [table, column] of COUNTERS) await qi.removeColumn(table, column);
}
