import fs from 'node:fs';
import path from 'node:path';
import { Sequelize, Transaction } from 'sequelize';
import type { Logger } from 'pino';
import { bindModels } from '../models/index.js';
import type { PostgresSql } from './postgres.js';
import type { Sql } from './sql.js';
import { SqliteSql } from './sqlite.js';
import { sqliteDriver } from './sqliteDriver.js';
import { takeSqliteTurns } from './sqliteTurns.js';

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  logger?: Logger;
}

/** The raw SQL layer opened beside each Sequelize instance (see sqlOf). */
const rawSql = new WeakMap<Sequelize, Sql>();

/** The raw SQL layer of a database opened by connectDatabase(). */
export function sqlOf(sequelize: Sequelize): Sql {
  const sql = rawSql.get(sequelize);
  if (!sql) throw new Error('this Sequelize instance was not opened by connectDatabase()');
  return sql;
}

/**
 * Runs `work` in a Sequelize transaction that has the write turn (on SQLite the process writes
 * nothing else meanwhile, see sqliteTurns.ts; IMMEDIATE, so it never has to upgrade a read lock).
 * Sequelize transactions are opened here, never with sequelize.transaction() directly.
 */
export function transaction<T>(sequelize: Sequelize, work: (transaction: Transaction) => Promise<T>): Promise<T> {
  return sqlOf(sequelize).exclusive(() => sequelize.transaction(work));
}

/** The SQLite file the configuration points at (`sqlite:` URL, else dataDir/jvai.sqlite3), or null for PostgreSQL. */
export function sqliteFile(databaseUrl: string | undefined, dataDir: string): string | null {
  if (databaseUrl && !databaseUrl.startsWith('sqlite:')) return null;
  return databaseUrl ? databaseUrl.replace(/^sqlite:(\/\/)?/, '') : path.join(dataDir, 'jvai.sqlite3');
}

/** How to close each database connectDatabase opened (once, however often it is asked). */
const closers = new WeakMap<Sequelize, () => Promise<void>>();

/**
 * Opens SQLite in the data dir (default) or PostgreSQL (DATABASE_URL), binds the models (one
 * database per process: see bindModels), and opens the raw SQL layer beside it; close both
 * with closeDatabase().
 */
export async function connectDatabase({ databaseUrl, dataDir, logger }: DatabaseOptions): Promise<Sequelize> {
  const logging = logger ? (sql: string) => logger.trace({ sql }, 'sql') : false;
  let sequelize: Sequelize;
  let sql: Sql;
  let postgres: PostgresSql | undefined;
  const file = sqliteFile(databaseUrl, dataDir);
  const storage = file === null || file === ':memory:' ? file : path.resolve(file);
  if (storage === null) {
    // Loaded only for PostgreSQL: the SQLite default starts without the pg driver.
    const { PostgresSql } = await import('./postgres.js');
    sequelize = new Sequelize(databaseUrl!, { dialect: 'postgres', logging, pool: { max: 10 } });
    sql = postgres = new PostgresSql(databaseUrl!, 10);
  } else {
    if (storage !== ':memory:') fs.mkdirSync(path.dirname(storage), { recursive: true });
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY_SNAPSHOT, which no busy timeout retries.
    sequelize = new Sequelize({ dialect: 'sqlite', dialectModule: sqliteDriver(), storage, logging, transactionType: Transaction.TYPES.IMMEDIATE });
    const sqlite = new SqliteSql(storage);
    // One turn-taking for every write of this process, raw and Sequelize alike.
    takeSqliteTurns(sequelize, sqlite);
    sql = sqlite;
  }
  // Before any query, so that of two databases opened at once the second is refused.
  const unbind = bindModels(sequelize, storage ?? databaseUrl!);
  rawSql.set(sequelize, sql);
  let closed: Promise<void> | undefined;
  closers.set(sequelize, () =>
    (closed ??= (async () => {
      unbind();
      await sql.close();
      await sequelize.close();
    })()),
  );
  try {
    await sequelize.authenticate();
    await postgres?.requireVersion();
  } catch (err) {
    await closeDatabase(sequelize);
    throw err;
  }
  return sequelize;
}

/** Closes what connectDatabase opened (the raw SQL layer, then Sequelize) and unbinds the models; once, however often it is called. */
export function closeDatabase(sequelize: Sequelize): Promise<void> {
  return closers.get(sequelize)?.() ?? sequelize.close();
}
