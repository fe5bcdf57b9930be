/**
 * A post's render_version is bumped by every save of it, not only by an edit of its content or
 * image: a save stamps updated_at (as Django's auto_now does) and updated_at is in the post's
 * JSON. Pages then list a post's stamp without its updated_at (src/services/posts.ts).
 */
import type { QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';
import { createTrigger, dropTrigger, type RowTrigger } from '../src/db/triggers.js';

type Params = MigrationParams<QueryInterface>;

const body = ['UPDATE posts SET render_version = render_version + 1 WHERE id = NEW.id'];
// The bump itself sets none of these columns, so it does not fire the trigger again.
const BEFORE: RowTrigger = { name: 'posts_render_version_upd', table: 'posts', event: 'UPDATE OF content, image', body };
const AFTER: RowTrigger = { ...BEFORE, event: 'UPDATE OF content, image, updated_at' };

export async function up({ context: qi }: Params): Promise<void> {
  await dropTrigger(qi, BEFORE);
  await createTrigger(qi, AFTER);
}

export async function down({ context: qi }: Params): Promise<void> {
  await dropTrigger(qi, AFTER);
  await createTrigger(qi, BEFORE);
}
