/**
 * The sqlite3 module Sequelize is given (its public `dialectModule` option): the few calls of
 * node-sqlite3's API that its SQLite dialect makes, on better-sqlite3 — the one SQLite library in
 * the process (two copies of SQLite on one file break each other's POSIX locks: SQLite's "How To
 * Corrupt", 2.2.1). Each handle is configured before Sequelize issues a statement on it: a busy
 * timeout (another process may hold the write lock), WAL (readers run beside the writer),
 * synchronous=FULL (a commit is on disk before the server acknowledges it) and foreign keys.
 */
import BetterSqlite from 'better-sqlite3';
import { bindValue } from './sqlite.js';

const PRAGMAS = 'PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON';

/** node-sqlite3's open flags, which Sequelize reads from the module. */
const OPEN_READONLY = 0x1;
const OPEN_READWRITE = 0x2;
const OPEN_CREATE = 0x4;

/**
 * What node-sqlite3 gives a callback as `this`: Sequelize reads the insert id and the change
 * count from it, and numbers a bulk insert's rows from them only if its class is named Statement.
 */
class Statement {
  constructor(
    readonly lastID: number,
    readonly changes: number,
  ) {}
}
type Callback = (this: Statement, err: Error | null, rows?: unknown[]) => void;

const NOTHING_RUN = new Statement(0, 0);

/** Sequelize passes positional values as an array, or named ones as an object (`$name`). */
function bindings(params: unknown): unknown[] {
  if (Array.isArray(params)) return [params.map(bindValue)];
  if (params && typeof params === 'object') {
    const named: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(params)) named[key.replace(/^[$:@]/, '')] = bindValue(value);
    return [named];
  }
  return [];
}

class SqliteDatabase {
  private readonly db?: BetterSqlite.Database;

  constructor(
    readonly filename: string,
    mode: number,
    opened: (err: Error | null) => void,
  ) {
    try {
      this.db = new BetterSqlite(filename, { readonly: (mode & OPEN_READWRITE) === 0, fileMustExist: (mode & OPEN_CREATE) === 0, timeout: 5000 });
      this.db.exec(PRAGMAS);
    } catch (err) {
      process.nextTick(opened, err as Error);
      return;
    }
    process.nextTick(opened, null);
  }

  /** node-sqlite3 queues statements when asked to; these run one at a time anyway. */
  serialize(fn?: () => void): void {
    fn?.();
  }

  all(sql: string, ...rest: unknown[]): this {
    return this.execute(sql, rest, true);
  }

  run(sql: string, ...rest: unknown[]): this {
    return this.execute(sql, rest, false);
  }

  exec(sql: string, callback?: Callback): this {
    this.answer(callback, () => {
      this.db!.exec(sql);
      return [NOTHING_RUN, undefined];
    });
    return this;
  }

  close(callback?: (err: Error | null) => void): void {
    try {
      this.db?.close();
    } catch (err) {
      callback?.(err as Error);
      return;
    }
    callback?.(null);
  }

  /** `(sql, [params], [callback])`, as node-sqlite3 takes them. */
  private execute(sql: string, rest: unknown[], wantRows: boolean): this {
    const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as Callback) : undefined;
    this.answer(callback, () => {
      const statement = this.db!.prepare(sql);
      const args = bindings(rest[0]);
      if (wantRows && statement.reader) return [NOTHING_RUN, statement.all(...args)];
      const info = statement.run(...args);
      return [new Statement(Number(info.lastInsertRowid), info.changes), wantRows ? [] : undefined];
    });
    return this;
  }

  private answer(callback: Callback | undefined, work: () => [Statement, unknown[] | undefined]): void {
    let result: [Statement, unknown[] | undefined];
    try {
      result = work();
    } catch (err) {
      callback?.call(NOTHING_RUN, err as Error);
      return;
    }
    callback?.call(result[0], null, result[1]);
  }
}

/** The module: a Database class and the open flags. */
export function sqliteDriver(): object {
  return { Database: SqliteDatabase, OPEN_READONLY, OPEN_READWRITE, OPEN_CREATE };
}
