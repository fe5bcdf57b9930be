/**
 * SQLite has one writer at a time. Letting node-sqlite3 discover that through busy
 * timeouts is a trap: each waiting statement blocks a libuv worker thread, and once the
 * (four) workers all wait, the transaction holding the lock cannot run its next statement
 * — every writer stalls until its timeout. So this process queues its own writes: managed
 * transactions and statements outside a transaction take turns with the raw layer's write
 * batches (src/db/sqlite.ts); reads (WAL) never wait.
 */
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { Sql } from './sql.js';

const READ = /^\s*(SELECT|PRAGMA|WITH\s+[\s\S]*?\bSELECT\b(?![\s\S]*\b(INSERT|UPDATE|DELETE)\b))/i;

interface QueryOptions {
  transaction?: Transaction | null;
  type?: string;
}

export function queueSqliteWrites(sequelize: Sequelize, sql: Pick<Sql, 'exclusive'>): void {
  const mutex = { run: <T>(fn: () => Promise<T>) => sql.exclusive(fn) };
  const query = sequelize.query.bind(sequelize) as (sql: unknown, options?: QueryOptions) => Promise<unknown>;
  const transaction = sequelize.transaction.bind(sequelize) as (...args: unknown[]) => Promise<unknown>;

  (sequelize as unknown as { query: typeof query }).query = (sql, options) => {
    const text = typeof sql === 'string' ? sql : (sql as { query?: string })?.query ?? '';
    const isRead = options?.type === QueryTypes.SELECT || options?.type === QueryTypes.SHOWINDEXES || READ.test(text);
    if (options?.transaction || isRead) return query(sql, options);
    return mutex.run(() => query(sql, options));
  };

  (sequelize as unknown as { transaction: typeof transaction }).transaction = (...args: unknown[]) => {
    const managed = typeof args[args.length - 1] === 'function';
    // Unmanaged transactions (no callback) cannot be queued safely: none are used here.
    if (!managed) return transaction(...args);
    return mutex.run(() => transaction(...args));
  };
}
