/**
 * A DM's client id is unique per sender only where one was given: the index skips messages without
 * one (every client written against the seed sends none). NULLs never conflict, so those entries
 * only cost a page written per DM — one of the ~5 each DM's commit writes to the WAL. The retry
 * lookup (`client_id = ?`) and `ON CONFLICT … WHERE client_id IS NOT NULL` still find it;
 * deleting a user still finds their sent messages by `(sender_id, id)`. group_messages keeps its
 * full index: it is that table's only one led by sender_id.
 */
import type { QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

const FULL = 'direct_messages_sender_id_client_id';
const GIVEN = 'direct_messages_sender_id_client_id_given';

export async function up({ context: qi }: Params): Promise<void> {
  // The new one first: the rule is never without an index.
  await qi.sequelize.query(`CREATE UNIQUE INDEX ${GIVEN} ON direct_messages (sender_id, client_id) WHERE client_id IS NOT NULL`);
  await qi.sequelize.query(`DROP INDEX ${FULL}`);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.sequelize.query(`CREATE UNIQUE INDEX ${FULL} ON direct_messages (sender_id, client_id)`);
  await qi.sequelize.query(`DROP INDEX ${GIVEN}`);
}
