/**
 * SQLite behind the Sql interface: a few read-only connections that read in parallel (WAL lets
 * them read beside the writer), and one writer connection that commits concurrent jobs together.
 *
 * Group commit: jobs that arrive while a batch is being written wait, then go in the next batch
 * as one transaction — one COMMIT and one fsync for all of them. The batch's jobs run
 * concurrently on the writer, which executes their statements one at a time: a job's own in the
 * order it awaits them, different jobs' in no promised order.
 * A job that fails rolls the batch back and gets its error; its neighbours run again without it,
 * so a job may run more than once and must only write through its `tx` (and announce through
 * afterCommit). Nobody is answered before the batch is on disk (synchronous=FULL). A caller that
 * needs order (a socket's frames) waits for one write before asking for the next.
 */
import sqlite3 from 'sqlite3';
import { rowCount, SharedStates, type Limit, type Sql, type SqlRunner, type SqlValue, type WriteTx } from './sql.js';
import { Mutex } from './mutex.js';

/**
 * How often the WAL is copied back into the database file (a PASSIVE checkpoint, on a connection of
 * its own). SQLite's default does it inside a commit every 1,000 pages, and that commit — with
 * every job in its batch — then waited for the copy and a second fsync.
 */
const CHECKPOINT_MS = 1000;

/** How many jobs one batch commits at most. */
const MAX_BATCH = 256;
/** Prepared statements kept per connection; SQL with varying IN lists would otherwise pile up. */
const MAX_STATEMENTS = 500;

/** Dates as Sequelize's SQLite dialect stores them, so both read and compare the same text. */
export function sqliteDate(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', ' +00:00');
}

const bindable = (params: readonly SqlValue[]): unknown[] => params.map((v) => (v instanceof Date ? sqliteDate(v) : typeof v === 'boolean' ? (v ? 1 : 0) : v));

/** A cached statement; `ready` until its preparation succeeded (a statement that fails to prepare never answers its calls). */
interface Prepared {
  statement: sqlite3.Statement;
  ready: Promise<void> | null;
  /** Calls handed to this statement and not answered yet. */
  busy: number;
}

/**
 * Copies of one statement kept per connection. node-sqlite3 runs one call of a statement
 * object at a time and starts the next only back on the main thread, so a batch's 25 inserts of
 * the same text waited for 25 turns of a busy event loop; copies run back to back on the thread
 * pool instead (the connection's own mutex still runs them one at a time).
 */
const MAX_COPIES = 16;

/** One sqlite3 handle with a cache of prepared statements. */
class Connection implements SqlRunner {
  private readonly statements = new Map<string, Prepared[]>();
  private statementCount = 0;
  /** Queries handed to this connection and not answered yet (the pool picks the least busy). */
  inFlight = 0;

  private constructor(private readonly db: sqlite3.Database) {}

  /** `serialized`: BEGIN, COMMIT and preparations wait for the statements issued before them. */
  static open(file: string, mode: number, pragmas: string, serialized = false): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const db = new sqlite3.Database(file, mode, (err) => {
        if (err) return reject(err);
        if (serialized) db.serialize();
        db.configure('busyTimeout', 5000);
        db.exec(pragmas, (e) => (e ? reject(e) : resolve(new Connection(db))));
      });
    });
  }

  /** An idle copy of the statement, a new one, or (at MAX_COPIES) the least busy. */
  private prepared(sql: string): Prepared {
    const copies = this.statements.get(sql) ?? [];
    const idle = copies.find((c) => c.busy === 0);
    if (idle) return idle;
    if (copies.length >= MAX_COPIES) return copies.reduce((best, c) => (c.busy < best.busy ? c : best));
    if (this.statementCount >= MAX_STATEMENTS) this.dropIdleStatements();
    let settle!: (err: Error | null) => void;
    const ready = new Promise<void>((resolve, reject) => (settle = (err) => (err ? reject(err) : resolve())));
    const created: Prepared = {
      statement: this.db.prepare(sql, (err) => {
        if (err) this.forget(sql, created);
        else created.ready = null;
        settle(err);
      }),
      ready,
      busy: 0,
    };
    const list = this.statements.get(sql) ?? [];
    list.push(created);
    this.statements.set(sql, list);
    this.statementCount++;
    return created;
  }

  private forget(sql: string, prepared: Prepared): void {
    const list = this.statements.get(sql);
    const index = list?.indexOf(prepared) ?? -1;
    if (!list || index === -1) return;
    list.splice(index, 1);
    this.statementCount--;
    if (!list.length) this.statements.delete(sql);
  }

  /** Forgets the statements no call is using: one still being prepared for a call must stay, or that call fails. */
  private dropIdleStatements(): void {
    for (const [sql, copies] of this.statements) {
      const inUse = copies.filter((c) => c.busy > 0);
      for (const c of copies) if (c.busy === 0) c.statement.finalize();
      this.statementCount -= copies.length - inUse.length;
      if (inUse.length) this.statements.set(sql, inUse);
      else this.statements.delete(sql);
    }
  }

  private async call<T>(method: 'all' | 'run', sql: string, params: readonly SqlValue[]): Promise<T> {
    this.inFlight++;
    const prepared = this.prepared(sql);
    prepared.busy++;
    try {
      if (prepared.ready) await prepared.ready;
      const { statement } = prepared;
      return await new Promise<T>((resolve, reject) => {
        const callback = function (this: sqlite3.RunResult, err: Error | null, result?: unknown) {
          if (err) reject(err);
          else resolve((method === 'run' ? { changes: this.changes } : result) as T);
        };
        if (method === 'all') statement.all(bindable(params), callback);
        else statement.run(bindable(params), callback);
      });
    } finally {
      prepared.busy--;
      this.inFlight--;
    }
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
    // Finalizing queues behind a call still running on a statement.
    for (const copies of this.statements.values()) for (const { statement } of copies) statement.finalize();
    this.statements.clear();
    this.statementCount = 0;
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
    return connections.reduce((best, c) => (c.inFlight < best.inFlight ? c : best));
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
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

/** An afterCommit callback and the job that registered it. */
interface Publication {
  job: Job;
  fn: () => unknown;
}

export class SqliteSql implements Sql {
  readonly dialect = 'sqlite' as const;
  readonly read: ReadPool;
  /** Every write of this process takes turns here: batches of jobs, and Sequelize's own writes. */
  private readonly gate = new Mutex();
  private readonly pending: Job[] = [];
  private flushQueued = false;
  private writer?: Promise<Connection>;
  /** The checkpointer (checkpoint()): its timer, its connection, the run under way. */
  private checkpoints?: NodeJS.Timeout;
  private checkpointer?: Promise<Connection>;
  private checkpointing?: Promise<void>;
  /** Batches committed since the last checkpoint started. */
  private commitsSinceCheckpoint = 0;

  /** `checkpointMs`: how often the checkpointer runs (CHECKPOINT_MS; tests choose their own). */
  constructor(private readonly file: string, readers: number, private readonly checkpointMs = CHECKPOINT_MS) {
    this.read = new ReadPool(file, readers);
  }

  /** Functions given to exclusive() that are running (Sequelize's transactions run in one). */
  private exclusiveRuns = 0;

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.gate.run(async () => {
      this.exclusiveRuns++;
      try {
        return await fn();
      } finally {
        this.exclusiveRuns--;
      }
    });
  }

  limit(rows: number): Limit {
    return { sql: `LIMIT ${rowCount(rows)}`, params: [] };
  }

  get inExclusive(): boolean {
    return this.exclusiveRuns > 0;
  }

  /** Waits until this process writes nothing else; the function it resolves to ends the turn. */
  writeTurn(): Promise<() => void> {
    return this.gate.acquire();
  }

  write<T>(work: (tx: WriteTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        // Whatever arrives until the gate is free joins this batch.
        void this.gate.run(() => this.flush());
      }
    });
  }

  private connection(): Promise<Connection> {
    if (!this.writer) {
      // synchronous=FULL: a commit is on disk before anyone hears it succeeded. Checkpoints are
      // the checkpointer's (CHECKPOINT_MS), not the commits'.
      this.writer = Connection.open(this.file, sqlite3.OPEN_READWRITE, 'PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0', true);
      this.checkpoints = setInterval(() => void this.checkpoint(), this.checkpointMs).unref();
    }
    return this.writer;
  }

  /**
   * Copies what the WAL holds into the database file, beside the writer: PASSIVE takes no lock
   * the writer or the readers wait for, and stops short of frames a reader still needs. It
   * syncs the database file before the WAL is reused, so committed data stays on disk throughout.
   * Runs on a timer; a call while one runs waits for that one.
   */
  checkpoint(): Promise<void> {
    if (this.checkpointing || !this.commitsSinceCheckpoint) return this.checkpointing ?? Promise.resolve();
    this.commitsSinceCheckpoint = 0;
    this.checkpointer ??= Connection.open(this.file, sqlite3.OPEN_READWRITE, 'PRAGMA synchronous = FULL');
    this.checkpointing = this.checkpointer
      .then((c) => c.exec('PRAGMA wal_checkpoint(PASSIVE)'))
      // A failed checkpoint leaves the WAL as it was: the next one copies it.
      .catch(() => undefined)
      .finally(() => (this.checkpointing = undefined));
    return this.checkpointing;
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    let batch = this.pending.splice(0, MAX_BATCH);
    if (this.pending.length) {
      this.flushQueued = true;
      void this.gate.run(() => this.flush());
    }
    let db: Connection;
    try {
      db = await this.connection();
    } catch (err) {
      for (const job of batch) job.reject(err);
      return;
    }
    // No savepoint per job (two more round trips each): if a job fails, the batch is rolled
    // back, that job alone gets its error, and the others run again in a new transaction.
    while (batch.length) {
      const result = await this.attempt(db, batch);
      if (result === 'aborted') return;
      if ('committed' in result) return settle(batch, result.committed);
      const { failed } = result;
      failed.reject(failed.outcome?.ok === false ? failed.outcome.error : new Error('write job failed'));
      batch = batch.filter((job) => job !== failed);
    }
  }

  /**
   * Runs a batch in one transaction, its jobs concurrently, so their round trips to the writer
   * overlap, then the state they shared (WriteTx.shared). Returns the publications when it
   * committed, the first job that failed (all rolled back), or 'aborted' if BEGIN, the shared
   * writes or COMMIT failed (all rejected).
   */
  private async attempt(db: Connection, batch: Job[]): Promise<{ committed: Publication[] } | { failed: Job } | 'aborted'> {
    try {
      await db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      for (const job of batch) job.reject(err);
      return 'aborted';
    }
    // Publications in the order they were registered, which is the order the jobs took their
    // event sequence numbers in: every recipient then hears its events in seq order.
    const publications: Publication[] = [];
    const shared = new SharedStates();
    await Promise.all(
      batch.map(async (job) => {
        const tx: WriteTx = {
          all: db.all.bind(db),
          get: db.get.bind(db),
          run: db.run.bind(db),
          afterCommit: (fn) => publications.push({ job, fn }),
          shared: (key, create, flush) => shared.get(key, create, flush),
          takeTurns: async () => undefined,
        };
        try {
          job.outcome = { ok: true, value: await job.work(tx) };
        } catch (error) {
          job.outcome = { ok: false, error };
        }
      }),
    );
    const failed = batch.find((job) => !job.outcome?.ok);
    if (failed) {
      await db.exec('ROLLBACK');
      return { failed };
    }
    try {
      // What the jobs wrote together; if that fails, no single job is to blame: all get the error.
      await shared.flush(db);
      await db.exec('COMMIT');
      this.commitsSinceCheckpoint++;
    } catch (err) {
      await db.exec('ROLLBACK').catch(() => undefined);
      for (const job of batch) job.reject(err);
      return 'aborted';
    }
    return { committed: publications };
  }

  async close(): Promise<void> {
    // Wait for writes already asked for.
    await this.gate.run(async () => undefined);
    clearInterval(this.checkpoints);
    await this.checkpointing;
    await this.read.close();
    const [writer, checkpointer] = [this.writer, this.checkpointer];
    this.writer = this.checkpointer = undefined;
    if (checkpointer) await (await checkpointer).close();
    if (writer) await (await writer).close();
  }
}

/**
 * Answers every job of a committed batch. Publications (afterCommit) are started in the order
 * they were registered before anyone is answered, so events leave in the order they were written.
 */
export function settle(batch: Job[], publications: Publication[]): void {
  const started = new Map<Job, Promise<unknown>[]>(batch.map((job) => [job, []]));
  for (const { job, fn } of publications) started.get(job)?.push(Promise.resolve().then(fn));
  for (const job of batch) {
    const outcome = job.outcome;
    if (!outcome?.ok) job.reject(outcome?.error);
    else
      Promise.all(started.get(job) ?? []).then(
        () => job.resolve(outcome.value),
        (err) => job.reject(err),
      );
  }
}

export type { Job, Publication };
