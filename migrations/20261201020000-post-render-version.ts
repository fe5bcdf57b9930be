/**
 * posts.render_version: bumped by triggers whenever what a post shows changes other than its
 * counters — its content or image is edited, or one of its comments is added, changed (edited,
 * liked, unliked) or removed — also by cascades and `jvai admin`, so that a rendering of a post
 * with its nested comments can be cached and checked against the post's row alone
 * (src/presenters/postTexts.ts). updated_at alone would not do: two edits can share a millisecond.
 */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';
import { createTrigger, dropTrigger, type RowTrigger } from '../src/db/triggers.js';

type Params = MigrationParams<QueryInterface>;

const bump = (row: 'NEW' | 'OLD', key: 'id' | 'post_id') => [`UPDATE posts SET render_version = render_version + 1 WHERE id = ${row}.${key}`];

const TRIGGERS: RowTrigger[] = [
  // Fires for edits only: the bump itself sets neither column, so it does not fire it again.
  { name: 'posts_render_version_upd', table: 'posts', event: 'UPDATE OF content, image', body: bump('NEW', 'id') },
  { name: 'comments_render_version_ins', table: 'comments', event: 'INSERT', body: bump('NEW', 'post_id') },
  { name: 'comments_render_version_upd', table: 'comments', event: 'UPDATE', body: bump('NEW', 'post_id') },
  { name: 'comments_render_version_del', table: 'comments', event: 'DELETE', body: bump('OLD', 'post_id') },
];

export async function up({ context: qi }: Params): Promise<void> {
  await qi.addColumn('posts', 'render_version', { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });
  for (const t of TRIGGERS) await createTrigger(qi, t);
}

export async function down({ context: qi }: Params): Promise<void> {
  for (const t of TRIGGERS) await dropTrigger(qi, t);
  await qi.removeColumn('posts', 'render_version');
}
