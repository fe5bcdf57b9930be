/**
 * A user's conversations are no longer indexed by recency. Every DM moved both sides' entries in
 * `dm_conversations (user_id, last_message_id)`: two pages of that index written per DM, a third
 * of what a DM's commit wrote to the WAL on the seeded database (6.1 → 4.2 frames a DM). A page of
 * conversations now sorts the user's summary rows — one per partner, found by the primary key —
 * and its cost follows the number of partners, not of messages. On PostgreSQL the summary rows'
 * updates touch no indexed column any more, so they are HOT updates.
 */
import type { QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

const INDEX = 'dm_conversations_user_id_last_message_id';

export async function up({ context: qi }: Params): Promise<void> {
  await qi.sequelize.query(`DROP INDEX ${INDEX}`);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.sequelize.query(`CREATE INDEX ${INDEX} ON dm_conversations (user_id, last_message_id)`);
}
