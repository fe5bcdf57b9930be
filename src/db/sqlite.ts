/**
 * SQLite behind the Sql interface: a few read-only connections that read in parallel (WAL lets
 * them read beside the writer), and one writer connection that commits concurrent jobs together.
 *
 * Group commit: jobs that arrive while a batch is being written wait, then go in the next batch
 * as one transaction — one COMMIT and one fsync for all of them, each job in its own SAVEPOINT so
 * one failure rolls back only that job. Nobody is answered before the batch is on disk
 * (synchronous=FULL). Jobs run in arrival order, so per-connection order is kept.
 */
import sqlite3 from 'sqlite3';
import type { Sql, SqlRunner, SqlValue, WriteTx } from './sql.js';
import { Mutex } from './mutex.js';

/** How many jobs one batch commits at most. */
const MAX_BATCH = 256;
/** Prepared statements kept per connection; SQL with varying IN lists would otherwise pile up. */
const MAX_STATEMENTS = 500;

/** Dates as Sequelize's SQLite dialect stores them, so both read and compare the same text. */
export function sqliteDate(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', ' +00:00');
}

const bindable = (params: readonly SqlValue[]): unknown[] => params.map((v) => (v instanceof Date ? sqliteDate(v) : typeof v === 'boolean' ? (v ? 1 : 0) : v));

/** One sqlite3 handle with a cache of prepared statements. */
class Connection implements SqlRunner {
  private readonly statements = new Map<string, sqlite3.Statement>();
  /** Queries handed to this connection and not answered yet (the pool picks the least busy). */
  inFlight = 0;

  private constructor(private readonly db: sqlite3.Database) {}

  static open(file: string, mode: number, pragmas: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, mode, (err) => {
        if (err) return reject(err);
        db.configure('busyTimeout', 5000);
        db.exec(pragmas, (e) => (e ? reject(e) : resolve(new Connection(db))));
      });
    });
  }

  private statement(sql: string): sqlite3.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size >= MAX_STATEMENTS) this.dropStatements();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private dropStatements(): void {
    for (const s of this.statements.values()) s.finalize();
    this.statements.clear();
  }

  private call<T>(method: 'all' | 'run', sql: string, params: readonly SqlValue[]): Promise<T> {
    this.inFlight++;
    return new Promise<T>((resolve, reject) => {
      const statement = this.statement(sql);
      const sqlParams = bindable(params);
      const callback = function (this: sqlite3.RunResult, err: Error | null, result?: unknown) {
        if (err) reject(err);
        else resolve((method === 'run' ? { changes: this.changes } : result) as T);
      };
      if (method === 'all') statement.all(sqlParams, callback);
      else statement.run(sqlParams, callback);
    }).finally(() => {
      this.inFlight--;
    });
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.call<T[]>('all', sql, params);
  }

  /** The first row. Through all(): a statement stepped only once stays open and blocks COMMIT. */
  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.call<T[]>('all', sql, params))[0];
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.call<{ changes: number }>('run', sql, params);
  }

  exec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    this.dropStatements();
    return new Promise((resolve, reject) => this.db.close((err) => (err ? reject(err) : resolve())));
  }
}

/** Read connections, opened on first use (the file and its WAL exist by then), least busy first. */
class ReadPool implements SqlRunner {
  private connections?: Promise<Connection[]>;

  constructor(private readonly file: string, private readonly size: number) {}

  private async pick(): Promise<Connection> {
    this.connections ??= Promise.all(Array.from({ length: this.size }, () => Connection.open(this.file, sqlite3.OPEN_READONLY, 'PRAGMA query_only = ON')));
    const connections = await this.connections;
    let best = connections[0];
    for (const c of connections) if (c.inFlight < best.inFlight) best = c;
    return best;
  }

  async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return (await this.pick()).all<T>(sql, params);
  }

  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.pick()).get<T>(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return (await this.pick()).run(sql, params);
  }

  async close(): Promise<void> {
    const connections = this.connections;
    this.connections = undefined;
    if (connections) await Promise.all((await connections).map((c) => c.close()));
  }
}

interface Job {
  work: (tx: WriteTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  afterCommit: (() => unknown)[];
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

export class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  readonly read: ReadPool;
  /** Every write of this process takes turns here: batches of jobs, and Sequelize's own writes. */
  private readonly gate = new Mutex();
  private readonly pending: Job[] = [];
  private flushQueued = false;
  private writer?: Promise<Connection>;

  constructor(private readonly file: string, readers: number) {
    this.read = new ReadPool(file, readers);
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.run(fn);
  }

  write<T>(work: (tx: WriteTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (v: unknown) => void, reject, afterCommit: [] });
      if (!this.flushQueued) {
        this.flushQueued = true;
        // Whatever arrives until the gate is free joins this batch.
        void this.gate.run(() => this.flush());
      }
    });
  }

  private connection(): Promise<Connection> {
    // synchronous=FULL: a commit is on disk before anyone hears it succeeded.
    this.writer ??= Connection.open(this.file, sqlite3.OPEN_READWRITE, 'PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON');
    return this.writer;
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    const batch = this.pending.splice(0, MAX_BATCH);
    if (this.pending.length) {
      this.flushQueued = true;
      void this.gate.run(() => this.flush());
    }
    let db: Connection;
    try {
      db = await this.connection();
      await db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      for (const job of batch) job.reject(err);
      return;
    }
    const alone = batch.length === 1;
    for (const job of batch) {
      const tx: WriteTx = { all: db.all.bind(db), get: db.get.bind(db), run: db.run.bind(db), afterCommit: (fn) => job.afterCommit.push(fn) };
      if (!alone) await db.exec('SAVEPOINT job');
      try {
        job.outcome = { ok: true, value: await job.work(tx) };
        if (!alone) await db.exec('RELEASE job');
      } catch (error) {
        job.outcome = { ok: false, error };
        job.afterCommit = [];
        if (!alone) await db.exec('ROLLBACK TO job; RELEASE job');
      }
    }
    try {
      if (alone && !batch[0].outcome?.ok) await db.exec('ROLLBACK');
      else await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      for (const job of batch) job.reject(err);
      return;
    }
    settle(batch);
  }

  async close(): Promise<void> {
    // Wait for writes already asked for.
    await this.gate.run(async () => undefined);
    await this.read.close();
    const writer = this.writer;
    this.writer = undefined;
    if (writer) await (await writer).close();
  }
}

/**
 * Answers every job of a committed batch in order. Publications (afterCommit) are started in
 * commit order before anyone is answered, so events leave in the order they were written.
 */
export function settle(batch: Job[]): void {
  for (const job of batch) {
    const outcome = job.outcome!;
    if (!outcome.ok) {
      job.reject(outcome.error);
      continue;
    }
    const published = job.afterCommit.map((fn) => Promise.resolve().then(fn));
    Promise.all(published).then(
      () => job.resolve(outcome.value),
      (err) => job.reject(err),
    );
  }
}

export type { Job };
