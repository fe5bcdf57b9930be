import type { QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * The list of all a user's DMs walks (sender_id, id) and (receiver_id, id) newest first instead of
 * reading and sorting every message the user ever sent or received for each page. Unread counts
 * live in dm_conversations now, so nothing reads (receiver_id, is_read) any more.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.addIndex('direct_messages', ['sender_id', 'id']);
  await qi.addIndex('direct_messages', ['receiver_id', 'id']);
  await qi.removeIndex('direct_messages', ['receiver_id', 'is_read']);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.addIndex('direct_messages', ['receiver_id', 'is_read']);
  await qi.removeIndex('direct_messages', ['receiver_id', 'id']);
  await qi.removeIndex('direct_messages', ['sender_id', 'id']);
}
