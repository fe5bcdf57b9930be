/**
 * The session_revocations table: one row per revoked session, written in the revoking
 * transaction, read by every server process (RevocationWatcher) to close the sockets of
 * revoked sessions even when the revocation happened in another process and no Redis
 * carries the event. Rows only need to live as long as the slowest poll, so they are pruned.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';

export interface Revocation {
  id: number;
  sessionId: string;
}

interface Row {
  id: number | string;
  session_id: string;
}

export class RevocationLog {
  constructor(private readonly sequelize: Sequelize) {}

  async record(userId: number, sessionIds: string[], transaction: Transaction): Promise<void> {
    if (!sessionIds.length) return;
    const now = new Date();
    await this.sequelize.getQueryInterface().bulkInsert(
      'session_revocations',
      sessionIds.map((sessionId) => ({ user_id: userId, session_id: sessionId, created_at: now })),
      { transaction },
    );
  }

  /** The newest id (0 when empty): where a process that just started begins polling. */
  async latestId(): Promise<number> {
    const [row] = await this.sequelize.query<{ id: number | string | null }>('SELECT MAX(id) AS id FROM session_revocations', { type: QueryTypes.SELECT });
    return Number(row?.id ?? 0);
  }

  /** Revocations after `afterId`, and those of the `missing` ids that exist by now; oldest first. */
  async after(afterId: number, missing: number[] = [], limit = 1000): Promise<Revocation[]> {
    const orMissing = missing.length ? ' OR id IN (:missing)' : '';
    const rows = await this.sequelize.query<Row>(`SELECT id, session_id FROM session_revocations WHERE id > :afterId${orMissing} ORDER BY id LIMIT :limit`, {
      type: QueryTypes.SELECT,
      replacements: { afterId, missing, limit },
    });
    return rows.map((r) => ({ id: Number(r.id), sessionId: r.session_id }));
  }

  /** Deletes rows older than `maxAgeMs`. */
  async prune(maxAgeMs: number): Promise<void> {
    await this.sequelize.query('DELETE FROM session_revocations WHERE created_at < :cutoff', { replacements: { cutoff: new Date(Date.now() - maxAgeMs) } });
  }
}
