/**
 * SQLite behind the Sql interface, through better-sqlite3: a statement runs synchronously on the
 * main thread, in microseconds. (node-sqlite3 ran each on libuv's pool, and under load its answer
 * waited 0.5–2 ms for a turn of the event loop; a batch of DMs was five such trips in a row.)
 * The writer, which commits concurrent jobs together, runs on the main thread; reads and
 * checkpoints run on threads of their own (sqliteThreads.ts).
 *
 * Group commit: jobs that arrive while a batch is being written wait, then go in the next batch
 * as one transaction — one COMMIT and one fsync for all of them. A batch is started after the
 * event loop's I/O (setImmediate), so the writes that arrived together go together. Its jobs run
 * concurrently, their statements one at a time: a job's own in the order it awaits them,
 * different jobs' in no promised order.
 * A job that fails rolls the batch back and gets its error; its neighbours run again without it,
 * so a job may run more than once and must only write through its `tx` (and announce through
 * afterCommit). A caller that needs order (a socket's frames) waits for one write before asking
 * for the next.
 *
 * Durability: nobody is answered before the batch is on disk. The writer commits with
 * synchronous=NORMAL and then fdatasyncs the WAL on libuv's pool, still holding the write turn —
 * what synchronous=FULL does inside COMMIT in WAL mode, without stopping the main thread, which
 * serves sockets while the disk syncs and the next batch gathers. A reader may see a batch during
 * that sync, before it is on disk; no caller hears it was written until it is.
 */
import fs from 'node:fs';
import os from 'node:os';
import Database from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { rowCount, SharedStates, type Limit, type Sql, type SqlRunner, type SqlValue, type WriteTx } from './sql.js';
import { Mutex } from './mutex.js';
import { Checkpointer, ReadWorkers } from './sqliteThreads.js';

/**
 * How often the WAL is copied back into the database file (a PASSIVE checkpoint, on a connection of
 * its own). SQLite's default does it inside a commit every 1,000 pages, and that commit — with
 * every job in its batch — then waited for the copy and a second fsync. Each run ends with writes
 * held while the last frames are copied (checkpoint()), and every DM in flight waits for it: at
 * 250 ms, when a held pass took 4–10 ms under bench:ws's DM load, those holds were half of the
 * slowest 1%. Now that it takes ~3 ms (Checkpointer.runHeld), every 500 ms measured as well as
 * every second for delivery and CPU per DM, and the WAL peaked at 68–99 MB instead of 144–182 MB
 * (bench/HISTORY.md, Dec 6, twelfth session).
 */
const CHECKPOINT_MS = 500;

/**
 * Checkpoint passes beside the writes before the one that holds them (checkpoint()): with
 * SQLite's own pass held, 8–16 ms held after one pass under bench:ws's DM load, 1–7 ms after up
 * to four; eight did no better, since each pass takes two syncs in which a batch or two commit.
 */
const CATCH_UP_PASSES = 4;
/** How many jobs one batch commits at most. */
const MAX_BATCH = 256;
/** Prepared statements kept per connection; SQL with varying IN lists would otherwise pile up. */
const MAX_STATEMENTS = 500;
/**
 * Reader threads: reads run beside the main thread, one per core the main thread leaves free.
 * On 2 cores one reader served every hot read 8–13% faster than two: a second thread only
 * competed for the same core and had to be woken twice as often (bench/HISTORY.md, Dec 6).
 */
const READERS = Math.max(1, Math.min(4, os.availableParallelism() - 1));
/** How long a batch waits for another process's write lock (retried off the main thread). */
const BUSY_MS = 5000;

/** Dates as Sequelize's SQLite dialect stores them, so both read and compare the same text. */
export function sqliteDate(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', ' +00:00');
}

/**
 * A value as SQLite is given it. better-sqlite3 binds every JS number as REAL; whole numbers go
 * as BigInt, so they are INTEGERs, as node-sqlite3 and PostgreSQL bind them (a REAL id written
 * into JSON or compared as text reads `5.0`).
 */
export function bindValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (v instanceof Date) return sqliteDate(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return v;
}

const bindable = (params: readonly SqlValue[]): unknown[] => params.map(bindValue);

const isBusy = (err: unknown): boolean => (err as { code?: unknown })?.code === 'SQLITE_BUSY';

/** One better-sqlite3 handle with a cache of prepared statements. */
class Connection implements SqlRunner {
  private readonly statements = new LRUCache<string, Database.Statement>({ max: MAX_STATEMENTS });

  constructor(private readonly db: Database.Database) {}

  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /** Rows of a statement that returns them; [] (and the statement run) for one that does not. */
  rows<T>(sql: string, params: readonly SqlValue[] = []): T[] {
    const statement = this.statement(sql);
    if (!statement.reader) {
      statement.run(bindable(params));
      return [];
    }
    return statement.all(bindable(params)) as T[];
  }

  async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.rows<T>(sql, params);
  }

  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.rows<T>(sql, params)[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return { changes: this.statement(sql).run(bindable(params)).changes };
  }

  /** Statements without values (BEGIN, COMMIT, ROLLBACK). */
  exec(sql: string): void {
    this.db.exec(sql);
  }

  /** Rolls back the open transaction; some errors (a full disk) have ended it already. */
  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}

/** fdatasync of the WAL on libuv's pool; callers that ask while one runs share the next. */
class WalSync {
  private fd?: number;
  private running?: Promise<void>;
  private next?: Promise<void>;

  constructor(private readonly file: string) {}

  /** Resolves once everything written to the WAL before the call is on disk. */
  sync(): Promise<void> {
    if (!this.running) return this.start();
    this.next ??= this.running.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  private start(): Promise<void> {
    this.next = undefined;
    this.fd ??= fs.openSync(this.file, 'r+');
    const fd = this.fd;
    const running = new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
    this.running = running;
    void running.then(
      () => this.settled(running),
      () => this.settled(running),
    );
    return running;
  }

  private settled(running: Promise<void>): void {
    if (this.running === running) this.running = undefined;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
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
  /** Every write of this process takes turns here: batches of jobs, and Sequelize's own writes. */
  private readonly gate = new Mutex();
  private readonly pending: Job[] = [];
  private flushQueued = false;
  /** The batch queued to start after this turn's I/O (close() waits for it). */
  private queued: Promise<void> = Promise.resolve();
  private closed = false;
  private writer?: Connection;
  /** The WAL's sync after each batch; null when the database is not in WAL mode (COMMIT syncs). */
  private walSync?: WalSync | null;
  /** The checkpointer (checkpoint()): its timer, its thread, the run under way. */
  private checkpoints?: NodeJS.Timeout;
  private checkpointer?: Checkpointer;
  private checkpointing?: Promise<void>;
  /** Batches committed since the last checkpoint started. */
  private commitsSinceCheckpoint = 0;
  /** Reads outside any transaction, on reader threads started on first use. */
  readonly read: ReadWorkers;

  /** `checkpointMs`: how often the checkpointer runs, and `readers` (CHECKPOINT_MS, READERS; tests choose their own). */
  constructor(
    private readonly file: string,
    private readonly checkpointMs = CHECKPOINT_MS,
    readers = READERS,
  ) {
    this.read = new ReadWorkers(file, readers, bindable);
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
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        // After this turn's I/O: the writes that arrived with it join the batch, and whatever
        // arrives until the gate is free.
        this.queued = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.gate.run(() => this.flush()));
      }
    });
  }

  /**
   * The writer. busy_timeout 0: another process's write lock is waited for by BEGIN's retries
   * (begin()), not by SQLite sleeping on the main thread. Checkpoints are the checkpointer's
   * (CHECKPOINT_MS), not the commits'. Temporary storage in memory: a batch's multi-row
   * statements keep statement journals (the pages they change, to undo one statement alone), and
   * past 64 KB SQLite spilled those to a temporary file it created, wrote and deleted each batch.
   */
  private connection(): Connection {
    if (!this.writer) {
      const db = new Database(this.file, { fileMustExist: true, timeout: 0 });
      const wal = db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
      db.exec(`PRAGMA synchronous = ${wal ? 'NORMAL' : 'FULL'}; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0; PRAGMA temp_store = MEMORY`);
      this.writer = new Connection(db);
      this.walSync = wal ? new WalSync(`${this.file}-wal`) : null;
      this.checkpoints = setInterval(() => void this.checkpoint(), this.checkpointMs).unref();
    }
    return this.writer;
  }

  /** BEGIN IMMEDIATE, retried while another process holds the write lock, for up to BUSY_MS. */
  private async begin(db: Connection): Promise<void> {
    const until = Date.now() + BUSY_MS;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        db.exec('BEGIN IMMEDIATE');
        return;
      } catch (err) {
        if (!isBusy(err) || Date.now() >= until) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * Copies what the WAL holds into the database file, beside the writer: PASSIVE takes no lock
   * the writer or the readers wait for, and stops short of frames a reader still needs. It
   * syncs the WAL before copying and the database file before the WAL is reused, so committed
   * data stays on disk throughout. Runs on a timer; a call while one runs waits for that one.
   *
   * SQLite starts the WAL over only when a write begins after a checkpoint copied all of it.
   * Under a steady stream of batches one always commits while the checkpoint copies, so the WAL
   * grew by every frame written (1 GB in 10 s of bench:ws) and every frame extended the file.
   * So what was committed meanwhile is copied again, at last with writes held (~3 ms, mostly the
   * database file's sync): the WAL then stays about a checkpoint's worth of writes long, and
   * rewriting its pages cost ~10% less CPU per DM than appending them (bench/HISTORY.md, Dec 6).
   */
  checkpoint(): Promise<void> {
    if (this.checkpointing || !this.commitsSinceCheckpoint) return this.checkpointing ?? Promise.resolve();
    this.commitsSinceCheckpoint = 0;
    const checkpointer = (this.checkpointer ??= new Checkpointer(this.file));
    this.checkpointing = (async () => {
      await checkpointer.run();
      // Batches committed while it copied. Copy theirs again beside the writes while there are
      // several (each pass is shorter than the last), then the last ones with writes held.
      for (let pass = 1; pass < CATCH_UP_PASSES && this.commitsSinceCheckpoint > 1; pass++) {
        this.commitsSinceCheckpoint = 0;
        await checkpointer.run();
      }
      if (!this.commitsSinceCheckpoint) return;
      // Every batch holds the turn until its WAL sync ends, so what this process committed is on disk.
      await this.gate.run(async () => {
        this.commitsSinceCheckpoint = 0;
        await checkpointer.runHeld();
      });
    })().finally(() => (this.checkpointing = undefined));
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
      db = this.connection();
    } catch (err) {
      for (const job of batch) job.reject(err);
      return;
    }
    // No savepoint per job (two more statements each): if a job fails, the batch is rolled
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
   * Runs a batch in one transaction, its jobs concurrently, then the state they shared
   * (WriteTx.shared), and waits until it is on disk. Returns the publications when it committed,
   * the first job that failed (all rolled back), or 'aborted' if BEGIN, the shared writes,
   * COMMIT or the sync failed (all rejected).
   */
  private async attempt(db: Connection, batch: Job[]): Promise<{ committed: Publication[] } | { failed: Job } | 'aborted'> {
    try {
      await this.begin(db);
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
      db.rollback();
      return { failed };
    }
    try {
      // What the jobs wrote together; if that fails, no single job is to blame: all get the error.
      await shared.flush(db);
      db.exec('COMMIT');
    } catch (err) {
      db.rollback();
      for (const job of batch) job.reject(err);
      return 'aborted';
    }
    this.commitsSinceCheckpoint++;
    try {
      await this.walSync?.sync();
    } catch (err) {
      // Committed, but whether it is on disk is unknown: nobody may be told it was written.
      for (const job of batch) job.reject(err);
      return 'aborted';
    }
    return { committed: publications };
  }

  async close(): Promise<void> {
    // Wait for writes already asked for, then refuse new ones.
    await this.queued;
    await this.gate.run(async () => undefined);
    this.closed = true;
    clearInterval(this.checkpoints);
    await this.checkpointing;
    await this.checkpointer?.close();
    this.walSync?.close();
    await this.read.close();
    this.writer?.close();
    this.checkpointer = this.writer = undefined;
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
