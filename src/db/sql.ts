/**
 * The raw SQL layer that hot paths use instead of Sequelize models: plain rows in, plain rows
 * out, values always bound as parameters. Queries are written once with `?` placeholders and
 * run on SQLite (a pool of read connections beside one group-committing writer) or PostgreSQL
 * (a pg pool). Sequelize keeps the schema (migrations) and the colder write paths.
 */

import { LRUCache } from 'lru-cache';

export type SqlValue = string | number | boolean | null | Date;
export type Row = Record<string, unknown>;

export interface SqlRunner {
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

/** Reads outside any transaction. */
export interface ReadRunner extends SqlRunner {
  /**
   * The only value of the only row, as text: a page the database packed as JSON. The statement
   * runs again only when something was committed since it last ran with the same values — on
   * SQLite by `PRAGMA data_version` (sqliteThreads.ts), on PostgreSQL by the snapshot
   * (postgresTexts.ts) — so it must read no clock (`now`, `random()`). On SQLite a text crosses
   * from the reader thread only when it differs from the one that thread sent last.
   */
  text(sql: string, params?: readonly SqlValue[]): Promise<string | undefined>;
}

/** Characters of remembered texts (ReadRunner.text) a process keeps at most. */
export const TEXT_MEMO_MAX_CHARS = 4 * 1024 * 1024;

/** Remembered texts of text reads, by textKey(), with what tells whether each still holds. */
export function textMemo<T extends { text: string }>(): LRUCache<string, T> {
  return new LRUCache<string, T>({ maxSize: TEXT_MEMO_MAX_CHARS, sizeCalculation: (kept, key) => kept.text.length + key.length });
}

/** A text read's statement and values as one key. Dates as objects: as JSON they would be strings, equal to a string bound instead. */
export function textKey(sql: string, params: readonly SqlValue[]): string {
  return `${JSON.stringify(params.map((p) => (p instanceof Date ? { date: p.getTime() } : p)))}\n${sql}`;
}

/** One write job's view of its transaction. */
export interface WriteTx extends SqlRunner {
  /** Runs once the job's changes are durable (committed); not at all if they were rolled back. */
  afterCommit(fn: () => unknown): void;
  /**
   * State that every job of this transaction shares under `key` (on SQLite one transaction
   * commits a batch of jobs): `create` makes it for the first job that asks, and that job's
   * `flush` writes it once all jobs have finished, just before COMMIT. Rows that many jobs add
   * to (the event log's) then cost one statement per batch instead of one per job.
   */
  shared<T>(key: object, create: () => T, flush: (state: T, db: SqlRunner) => Promise<void>): T;
  /**
   * Makes jobs that decide about the same ids take turns until COMMIT, where concurrent
   * transactions need it: on PostgreSQL, a transaction-level advisory lock per id in `scope`,
   * taken in id order (so two jobs never wait on each other crosswise). Advisory locks touch no
   * rows, so they never meet the row locks other writes take: locking the users' rows instead
   * deadlocked with a DM's foreign-key check of its sender and receiver. SQLite has nothing to
   * take: its one writer runs each statement alone, so a decision written into a statement
   * (INSERT … WHERE NOT EXISTS) cannot race.
   */
  takeTurns(scope: TurnScope, ids: number[]): Promise<void>;
}

/** What jobs take turns about (WriteTx.takeTurns), as PostgreSQL advisory lock classes. */
export const TURN_SCOPES = { callParties: 27_254_001 } as const;
export type TurnScope = keyof typeof TURN_SCOPES;

/** The shared states of one transaction (WriteTx.shared), flushed in the order they were made. */
export class SharedStates {
  private readonly states = new Map<object, { state: unknown; flush: (db: SqlRunner) => Promise<void> }>();

  get<T>(key: object, create: () => T, flush: (state: T, db: SqlRunner) => Promise<void>): T {
    let entry = this.states.get(key);
    if (!entry) {
      const state = create();
      entry = { state, flush: (db) => flush(state, db) };
      this.states.set(key, entry);
    }
    return entry.state as T;
  }

  async flush(db: SqlRunner): Promise<void> {
    for (const { flush } of this.states.values()) await flush(db);
  }
}

export type Dialect = 'sqlite' | 'postgres';

/** A `LIMIT` clause and the values it binds (Sql.limit). */
export interface Limit {
  sql: string;
  params: number[];
}

export interface Sql {
  readonly dialect: Dialect;
  /** Reads outside any transaction; on SQLite they run on several connections at once. */
  readonly read: ReadRunner;
  /**
   * Runs `job` in a write transaction and resolves once it committed; its afterCommit callbacks
   * have been called by then. On SQLite concurrent jobs share one transaction and one fsync and
   * interleave their statements (as READ COMMITTED transactions would on PostgreSQL): a job must
   * not count on a read staying true until it writes — decide in the writing statement itself
   * (conditional UPDATE, INSERT … ON CONFLICT). A failing job fails alone and its neighbours run
   * again, so a job must only write through `tx`, and must have awaited every statement it issued
   * by the time it settles (the batch is rolled back or committed right after).
   */
  write<T>(job: (tx: WriteTx) => Promise<T>): Promise<T>;
  /** Runs `fn` while this process writes nothing else (how Sequelize's own writes take turns on SQLite). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * `LIMIT rows` written as this database plans best. SQLite plans with a LIMIT's value, so it
   * parses and plans a statement whose LIMIT is bound again on every run (the feed's query: 240 µs
   * against 95 µs): there the count is written into the text, and the few page sizes make few
   * texts. PostgreSQL plans a prepared statement for any value: there it stays bound, which gave
   * the better plans (a written LIMIT made it plan each run again, or pick worse generic plans).
   */
  limit(rows: number): Limit;
  close(): Promise<void>;
}

/** A column that PostgreSQL returns as a string (COUNT, bigint) or SQLite as a number. */
export const num = (v: unknown): number => Number(v ?? 0);
/** A boolean column: SQLite stores 0/1, PostgreSQL returns true/false. */
export const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't';
/** Ids as one PostgreSQL `int[]` parameter (`= ANY(?::int[])`): one statement text whatever their number. */
export const pgIntArray = (ids: readonly number[]): string => `{${ids.map(Number).join(',')}}`;
/** `?, ?, ?` for an IN list of n values. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** A row count fit to be written into a statement's text: a whole, non-negative number. */
export function rowCount(rows: number): number {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new TypeError(`not a row count: ${rows}`);
  return rows;
}
