import type { QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * A user's followers page walks (following_id, follower_id) in order instead of sorting all of
 * that user's followers for every page; the old (following_id) index is a prefix of it.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.addIndex('follows', ['following_id', 'follower_id'], { unique: true });
  await qi.removeIndex('follows', ['following_id']);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.addIndex('follows', ['following_id']);
  await qi.removeIndex('follows', ['following_id', 'follower_id']);
}
