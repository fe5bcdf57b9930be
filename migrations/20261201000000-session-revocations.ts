import { DataTypes, type QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';

type Params = MigrationParams<QueryInterface>;

/**
 * A short-lived log of revoked sessions (logout, ban, password change, deletion, refresh
 * reuse), written in the revoking transaction. Every server process polls it by id, so a
 * revocation made by another process (`jvai admin`, or a sibling without Redis) closes the
 * sockets it holds. No foreign key: a deleted user's revocation must outlive the user row.
 */
export async function up({ context: qi }: Params): Promise<void> {
  await qi.createTable('session_revocations', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true, allowNull: false },
    user_id: { type: DataTypes.INTEGER, allowNull: false },
    session_id: { type: DataTypes.STRING(36), allowNull: false },
    created_at: { type: DataTypes.DATE, allowNull: false },
  });
  // Pruning by age; polling uses the primary key.
  await qi.addIndex('session_revocations', ['created_at']);
}

export async function down({ context: qi }: Params): Promise<void> {
  await qi.dropTable('session_revocations');
}
