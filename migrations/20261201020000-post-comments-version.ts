/**
 * posts.comments_version: bumped by triggers whenever one of the post's comments is added,
 * changed (edited, liked, unliked) or removed — also by cascades and `jvai admin` — so that a
 * rendering of a post with its nested comments can be cached and checked against the post's row
 * alone (src/presenters/postTexts.ts).
 */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';
import { createTrigger, dropTrigger, type RowTrigger } from '../src/db/triggers.js';

type Params = MigrationParams<QueryInterface>;

const bump = (row: 'NEW' | 'OLD') => [`UPDATE posts SET comments_version = comments_version + 1 WHERE id = ${row}.post_id`];

const TRIGGERS: RowTrigger[] = [
  { name: 'comments_version_ins', table: 'comments', event: 'INSERT', body: bump('NEW') },
  { name: 'comments_version_upd', table: 'comments', event: 'UPDATE', body: bump('NEW') },
  { name: 'comments_version_del', table: 'comments', event: 'DELETE', body: bump('OLD') },
];

export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('posts', 'comments_version', { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });
  for (const t of TRIGGERS) await createTrigger(qi, t);
}

export async function down({ context: qi }: Params): Promise<void> {
  for (const t of TRIGGERS) await dropTrigger(qi, t);
  await qi.removeColumn('posts', 'comments_version');
}
