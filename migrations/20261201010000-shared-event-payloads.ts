/**
 * An event logged for many recipients (a group message to 1,000 members) stores its payload once
 * in event_payloads; each recipient's log row points at it (payload_id) and keeps an empty
 * payload. (The column stays NOT NULL: making it nullable would rebuild the whole table on SQLite.)
 */
import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('event_payloads', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true, allowNull: false },
    payload: { type: DataTypes.TEXT, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('event_payloads', ['created_at']);
  await qi.addColumn('user_events', 'payload_id', { type: DataTypes.INTEGER, allowNull: true });
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.sequelize.query('UPDATE user_events SET payload = (SELECT p.payload FROM event_payloads p WHERE p.id = user_events.payload_id) WHERE payload_id IS NOT NULL');
  await qi.removeColumn('user_events', 'payload_id');
  await qi.dropTable('event_payloads');
}
