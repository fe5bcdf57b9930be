/**
 * The raw SQL layer that hot paths use instead of Sequelize models: plain rows in, plain rows
 * out, values always bound as parameters. Queries are written once with `?` placeholders and
 * run on SQLite (a pool of read connections beside one group-committing writer) or PostgreSQL
 * (a pg pool). Sequelize keeps the schema (migrations) and the colder write paths.
 */

export type SqlValue = string | number | boolean | null | Date;
export type Row = Record<string, unknown>;

export interface SqlRunner {
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

/** One write job's view of its transaction. */
export interface WriteTx extends SqlRunner {
  /** Runs once the job's changes are durable (committed); not at all if they were rolled back. */
  afterCommit(fn: () => unknown): void;
}

export type Dialect = 'sqlite' | 'postgres';

export interface Sql {
  readonly dialect: Dialect;
  /** Reads outside any transaction; on SQLite they run on several connections at once. */
  readonly read: SqlRunner;
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
  close(): Promise<void>;
}

/** A column that PostgreSQL returns as a string (COUNT, bigint) or SQLite as a number. */
export const num = (v: unknown): number => Number(v ?? 0);
/** A boolean column: SQLite stores 0/1, PostgreSQL returns true/false. */
export const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't';
/** `?, ?, ?` for an IN list of n values. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');
