/**
 * SQLite has one writer at a time. Letting the driver discover that through busy timeouts is
 * a trap: a waiting statement sleeps on the main thread (better-sqlite3 is synchronous), and
 * the transaction holding the lock cannot run its next statement meanwhile — every writer
 * stalls until its timeout. So Sequelize's writes take turns with the raw layer's write
 * batches (src/db/sqlite.ts), through Sequelize's public query hooks and our own transaction():
 * - a statement outside a transaction waits for a turn in `beforeQuery` and gives it back in
 *   `afterQuery` (which Sequelize runs in a `finally`), unless its query type says it reads;
 *   reads (WAL) never wait;
 * - a transaction holds one turn from BEGIN to COMMIT: it is opened with transaction()
 *   (connection.ts). One opened otherwise, while no such turn is held, is refused on its first
 *   statement instead of racing the writer.
 */
import { QueryTypes, type Sequelize } from 'sequelize';
import type { SqliteSql } from './sqlite.js';

const READS = new Set<string>([QueryTypes.SELECT, QueryTypes.SHOWINDEXES, QueryTypes.SHOWTABLES, QueryTypes.DESCRIBE, QueryTypes.FOREIGNKEYS, QueryTypes.VERSION]);

export function takeSqliteTurns(sequelize: Sequelize, sqlite: SqliteSql): void {
  const turns = new WeakMap<object, () => void>();
  sequelize.addHook('beforeQuery', async (options, query) => {
    if (options.transaction) {
      if (!sqlite.inExclusive) throw new Error('SQLite transactions must be opened with transaction() from src/db/connection.ts, which takes the write turn');
      return;
    }
    if (!READS.has(options.type ?? QueryTypes.RAW)) turns.set(query, await sqlite.writeTurn());
  });
  sequelize.addHook('afterQuery', (_options, query) => {
    turns.get(query)?.();
    turns.delete(query);
  });
}
