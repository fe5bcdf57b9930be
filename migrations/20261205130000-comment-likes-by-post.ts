/**
 * comment_likes.post_id (the liked comment's post), indexed with the user: a page of posts finds
 * which of each post's comments the viewer likes with one index probe per post, instead of
 * walking the post's newest comments and probing each (a third of a feed page's query on
 * PostgreSQL). A trigger fills it, whoever inserts the like; a comment never changes its post.
 */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';
import { createTrigger, dropTrigger, type RowTrigger } from '../src/db/triggers.js';

type Params = MigrationParams<QueryInterface>;

const FILL: RowTrigger = {
  name: 'comment_likes_post_id_ins',
  table: 'comment_likes',
  event: 'INSERT',
  body: ['UPDATE comment_likes SET post_id = (SELECT c.post_id FROM comments c WHERE c.id = NEW.comment_id) WHERE id = NEW.id'],
};

export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('comment_likes', 'post_id', { type: DataTypes.INTEGER, allowNull: true });
  await qi.sequelize.query('UPDATE comment_likes SET post_id = (SELECT c.post_id FROM comments c WHERE c.id = comment_likes.comment_id)');
  await createTrigger(qi, FILL);
  // Its prefix serves what the (user_id) index did.
  await qi.addIndex('comment_likes', ['user_id', 'post_id', 'comment_id']);
  await qi.removeIndex('comment_likes', ['user_id']);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.addIndex('comment_likes', ['user_id']);
  await qi.removeIndex('comment_likes', ['user_id', 'post_id', 'comment_id']);
  await dropTrigger(qi, FILL);
  await qi.removeColumn('comment_likes', 'post_id');
}
