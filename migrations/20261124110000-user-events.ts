import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

const user = { type: DataTypes.INTEGER, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' };

/**
 * The per-user event log realtime clients resume from. The counter lives in its own table
 * rather than on `users`: bumping it must not take the row locks that every foreign key
 * insert referencing a user (messages, calls) also needs on PostgreSQL.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('user_event_counters', {
    user_id: { ...user, primaryKey: true },
    seq: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
  });
  await qi.createTable('user_events', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true, allowNull: false },
    user_id: user,
    seq: { type: DataTypes.INTEGER, allowNull: false },
    name: { type: DataTypes.STRING(64), allowNull: false },
    payload: { type: DataTypes.TEXT, allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  await qi.addIndex('user_events', ['user_id', 'seq'], { unique: true });
  // Pruning by age.
  await qi.addIndex('user_events', ['created_at']);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('user_events');
  await qi.dropTable('user_event_counters');
}
