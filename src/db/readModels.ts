/**
 * Rebuilds what the triggers of migration 20261130230000 keep (stored counters, home timelines,
 * conversation summaries) from the source tables, then refreshes the planner's statistics.
 * Run by that migration, by `jvai admin recount`, and after bulk loads (`jvai admin seed`).
 */
import type { Sequelize } from 'sequelize';
import { transaction } from './connection.js';

const REBUILD = [
  'UPDATE users SET followers_count = (SELECT COUNT(*) FROM follows f WHERE f.following_id = users.id), following_count = (SELECT COUNT(*) FROM follows f WHERE f.follower_id = users.id)',
  'UPDATE posts SET likes_count = (SELECT COUNT(*) FROM post_likes l WHERE l.post_id = posts.id), comments_count = (SELECT COUNT(*) FROM comments c WHERE c.post_id = posts.id)',
  'UPDATE comments SET likes_count = (SELECT COUNT(*) FROM comment_likes l WHERE l.comment_id = comments.id)',
  'UPDATE social_groups SET members_count = (SELECT COUNT(*) FROM group_members m WHERE m.group_id = social_groups.id)',
  'DELETE FROM home_timeline',
  `INSERT INTO home_timeline (user_id, post_id)
     SELECT author_id, id FROM posts
     UNION SELECT f.follower_id, p.id FROM follows f JOIN posts p ON p.author_id = f.following_id`,
  'DELETE FROM dm_conversations',
  `INSERT INTO dm_conversations (user_id, partner_id, last_message_id, unread_count)
     SELECT t.user_id, t.partner_id, MAX(t.id), SUM(t.unread) FROM (
       SELECT sender_id AS user_id, receiver_id AS partner_id, id, 0 AS unread FROM direct_messages
       UNION ALL
       SELECT receiver_id, sender_id, id, CASE WHEN is_read THEN 0 ELSE 1 END FROM direct_messages
     ) t GROUP BY t.user_id, t.partner_id`,
];

/**
 * Statistics for the query planner; stale ones made PostgreSQL's feed 100× slower after a seed.
 * On PostgreSQL also the visibility map (VACUUM): until autovacuum gets to a freshly loaded table,
 * its index-only scans fetch every row from the heap as well (the feed's timeline walk: its
 * PostgreSQL CPU per page −15 to −25% once vacuumed). SQLite has no such map; its VACUUM would
 * rewrite the whole file for nothing.
 * On SQLite only the per-index averages (sqlite_stat1) are kept. better-sqlite3's SQLite is built
 * with STAT4, and while sqlite_stat4 holds samples, every statement that compares an indexed
 * column with a bound value is compiled again each time it runs (a new value might want a new
 * plan): the conversations page's statement cost 183–185 µs instead of 96–117. Our statements are
 * written for their indexes; the averages choose as well. Dropping the table changes the schema,
 * so every open connection reloads the statistics.
 */
export async function analyze(sequelize: Sequelize): Promise<void> {
  if (sequelize.getDialect() === 'postgres') {
    await sequelize.query('VACUUM ANALYZE');
    return;
  }
  await transaction(sequelize, async (transaction) => {
    await sequelize.query('ANALYZE', { transaction });
    await sequelize.query(DROP_SAMPLES, { transaction });
  });
}

/** SQLite's value samples (see analyze()); the next ANALYZE would create the table again. */
export const DROP_SAMPLES = 'DROP TABLE IF EXISTS sqlite_stat4';

export async function rebuildReadModels(sequelize: Sequelize): Promise<void> {
  await transaction(sequelize, async (transaction) => {
    for (const statement of REBUILD) await sequelize.query(statement, { transaction });
  });
  await analyze(sequelize);
}
