/**
 * A conversation's messages are one index walk: (lower user id, higher user id, id), newest first,
 * instead of two walks — (sender, receiver) and (receiver, sender) — merged and sorted again. The
 * two per-direction indexes served only that merge, so they go: each DM updates one index less.
 * The expression must match the one `with_user` queries with (src/services/messages.ts, pairOf).
 */
import type { QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

export async function up({ context: qi }: Params): Promise<void> {
  const [low, high] = qi.sequelize.getDialect() === 'postgres' ? ['LEAST', 'GREATEST'] : ['MIN', 'MAX'];
  await qi.sequelize.query(`CREATE INDEX direct_messages_pair_id ON direct_messages (${low}(sender_id, receiver_id), ${high}(sender_id, receiver_id), id)`);
  await qi.removeIndex('direct_messages', ['sender_id', 'receiver_id', 'id']);
  await qi.removeIndex('direct_messages', ['receiver_id', 'sender_id', 'id']);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.addIndex('direct_messages', ['sender_id', 'receiver_id', 'id']);
  await qi.addIndex('direct_messages', ['receiver_id', 'sender_id', 'id']);
  await qi.sequelize.query('DROP INDEX direct_messages_pair_id');
}
