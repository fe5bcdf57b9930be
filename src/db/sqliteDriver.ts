/**
 * The sqlite3 module Sequelize is given (its public `dialectModule` option), so every handle it
 * opens — one for statements outside transactions, one per transaction — is ours and configured
 * before Sequelize issues a statement on it: a busy timeout (another process may hold the write
 * lock), WAL (readers run beside the writer), synchronous=FULL (a commit is on disk before the
 * server acknowledges it, even if the machine loses power) and foreign keys.
 */
import sqlite3 from 'sqlite3';

const PRAGMAS = 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON';

type Callback = (err: Error | null, rows?: unknown) => void;

const TABLE_INFO = /^PRAGMA table_info\(/;
const DDL = /^\s*(CREATE|ALTER|DROP)\b/i;

/**
 * A sqlite3 module whose databases share one cache of `PRAGMA table_info` answers. Sequelize's
 * SQLite dialect asks it for every table of every SELECT, to parse column types: a second round
 * trip per query. The schema only changes through DDL, so the answers are kept until DDL runs
 * (migrations) on any of the module's handles. Only a cache: if Sequelize stops asking, it is
 * simply never hit.
 */
export function sqliteDriver(): typeof sqlite3 {
  const tableInfo = new Map<string, unknown>();

  class Database extends sqlite3.Database {
    constructor(file: string, mode: number, opened: (err: Error | null) => void) {
      super(file, mode, (err) => {
        if (err) return opened(err);
        this.configure('busyTimeout', 5000);
        this.exec(PRAGMAS, opened);
      });
    }

    override all(sql: string, ...rest: unknown[]): this {
      const cb = rest[rest.length - 1] as Callback;
      if (DDL.test(sql)) tableInfo.clear();
      if (!TABLE_INFO.test(sql) || typeof cb !== 'function') return super.all(sql, ...rest);
      if (tableInfo.has(sql)) {
        process.nextTick(cb, null, tableInfo.get(sql));
        return this;
      }
      return super.all(sql, ...rest.slice(0, -1), (err: Error | null, rows: unknown) => {
        if (!err) tableInfo.set(sql, rows);
        cb(err, rows);
      });
    }

    override run(sql: string, ...rest: unknown[]): this {
      if (DDL.test(sql)) tableInfo.clear();
      return super.run(sql, ...rest);
    }
  }

  return { ...sqlite3, Database } as typeof sqlite3;
}
