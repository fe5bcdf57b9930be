import fs from 'node:fs';
import path from 'node:path';
import { Sequelize, Transaction } from 'sequelize';
import type { Logger } from 'pino';
import { initModels } from '../models/index.js';
import { queueSqliteWrites } from './sqliteWriteQueue.js';
import type { Sql } from './sql.js';
import { SqliteSql } from './sqlite.js';
import { PostgresSql } from './postgres.js';

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  logger?: Logger;
}

/** SQLite connections that read in parallel; the libuv pool (bin/jvai.js sizes it) runs them. */
const SQLITE_READERS = 3;

/** The raw SQL layer opened beside each Sequelize instance (see sqlOf). */
const rawSql = new WeakMap<Sequelize, Sql>();

/** The raw SQL layer of a database opened by connectDatabase(). */
export function sqlOf(sequelize: Sequelize): Sql {
  const sql = rawSql.get(sequelize);
  if (!sql) throw new Error('this Sequelize instance was not opened by connectDatabase()');
  return sql;
}

/** The SQLite file the configuration points at (`sqlite:` URL, else dataDir/jvai.sqlite3), or null for PostgreSQL. */
export function sqliteFile(databaseUrl: string | undefined, dataDir: string): string | null {
  if (databaseUrl && !databaseUrl.startsWith('sqlite:')) return null;
  return databaseUrl ? databaseUrl.replace(/^sqlite:(\/\/)?/, '') : path.join(dataDir, 'jvai.sqlite3');
}

/**
 * Opens SQLite in the data dir (default) or PostgreSQL (DATABASE_URL), binds the models, and
 * opens the raw SQL layer beside it; sequelize.close() closes both.
 */
export async function connectDatabase({ databaseUrl, dataDir, logger }: DatabaseOptions): Promise<Sequelize> {
  const logging = logger ? (sql: string) => logger.trace({ sql }, 'sql') : false;
  let sequelize: Sequelize;
  let sql: Sql;
  const storage = sqliteFile(databaseUrl, dataDir);
  if (storage === null) {
    sequelize = new Sequelize(databaseUrl!, { dialect: 'postgres', logging, pool: { max: 10 } });
    sql = new PostgresSql(databaseUrl!, 10);
  } else {
    if (storage !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(storage)), { recursive: true });
    // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then
    // writes can fail with SQLITE_BUSY_SNAPSHOT, which no busy timeout retries.
    sequelize = new Sequelize({ dialect: 'sqlite', storage, logging, pool: { max: 1 }, transactionType: Transaction.TYPES.IMMEDIATE });
    configureEverySqliteConnection(sequelize);
    const sqlite = new SqliteSql(storage, SQLITE_READERS);
    // One turn-taking for every write of this process, raw and Sequelize alike.
    queueSqliteWrites(sequelize, sqlite);
    sql = sqlite;
  }
  await sequelize.authenticate();
  // WAL lets readers run beside the writer; it is a property of the file, set once.
  if (sequelize.getDialect() === 'sqlite') await sequelize.query('PRAGMA journal_mode = WAL');
  initModels(sequelize);
  rawSql.set(sequelize, sql);
  const close = sequelize.close.bind(sequelize);
  sequelize.close = async () => {
    await sql.close();
    return close();
  };
  return sequelize;
}

type Callback = (err: Error | null, rows?: unknown) => void;

interface SqliteHandle {
  configure(option: 'busyTimeout', ms: number): void;
  exec(sql: string, cb: (err: Error | null) => void): void;
  all(sql: string, ...rest: unknown[]): unknown;
  run(sql: string, ...rest: unknown[]): unknown;
}

const TABLE_INFO = /^PRAGMA table_info\(/;
const DDL = /^\s*(CREATE|ALTER|DROP)\b/i;

/**
 * Sequelize's SQLite dialect asks `PRAGMA table_info` for every table of every SELECT, to
 * parse column types: a second round trip per query. The schema only changes through DDL,
 * so the answers are cached and dropped whenever DDL runs (migrations).
 */
function cacheTableInfo(handle: SqliteHandle, cache: Map<string, unknown>): void {
  const all = handle.all.bind(handle);
  const run = handle.run.bind(handle);
  handle.all = (sql: string, ...rest: unknown[]) => {
    const cb = rest[rest.length - 1] as Callback;
    if (DDL.test(sql)) cache.clear();
    if (!TABLE_INFO.test(sql) || typeof cb !== 'function') return all(sql, ...rest);
    if (cache.has(sql)) return process.nextTick(cb, null, cache.get(sql));
    return all(sql, ...rest.slice(0, -1), (err: Error | null, rows: unknown) => {
      if (!err) cache.set(sql, rows);
      cb(err, rows);
    });
  };
  handle.run = (sql: string, ...rest: unknown[]) => {
    if (DDL.test(sql)) cache.clear();
    return run(sql, ...rest);
  };
}

/**
 * Sequelize opens (and closes) a new SQLite handle for every transaction and runs no hook
 * for it. Since this process queues its transactions one at a time (sqliteWriteQueue.ts),
 * they all share one long-lived writer handle instead — opening a database per message
 * was most of a DM's latency. Each handle gets, on first use: the table_info cache, a busy
 * timeout (another process may hold the lock), and synchronous=FULL (a commit is on disk
 * before the server acknowledges it, even if the machine loses power).
 */
function configureEverySqliteConnection(sequelize: Sequelize): void {
  const manager = sequelize.connectionManager as unknown as {
    getConnection(options?: { uuid?: string }): Promise<SqliteHandle>;
    releaseConnection(handle: SqliteHandle, force?: boolean): void;
  };
  const getConnection = manager.getConnection.bind(manager);
  const releaseConnection = manager.releaseConnection.bind(manager);
  const configured = new WeakSet<SqliteHandle>();
  const tableInfo = new Map<string, unknown>();
  let writer: SqliteHandle | undefined;
  let writerOwner: string | undefined;

  const configure = async (handle: SqliteHandle) => {
    if (configured.has(handle)) return handle;
    configured.add(handle);
    cacheTableInfo(handle, tableInfo);
    handle.configure('busyTimeout', 5000);
    await new Promise<void>((resolve, reject) => handle.exec('PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON', (err) => (err ? reject(err) : resolve())));
    return handle;
  };

  manager.getConnection = async (options) => {
    const uuid = options?.uuid;
    if (!uuid || uuid === 'default') return configure(await getConnection(options));
    // A second transaction while one is open would share its handle: refuse loudly.
    if (writerOwner && writerOwner !== uuid) throw new Error('SQLite transactions must go through sequelize.transaction(callback) (queued)');
    writer ??= await configure(await getConnection({ ...options, uuid: 'jvai-writer' }));
    writerOwner = uuid;
    return writer;
  };
  manager.releaseConnection = (handle, force) => {
    if (handle === writer && !force) {
      writerOwner = undefined;
      return;
    }
    releaseConnection(handle, force);
  };
}
