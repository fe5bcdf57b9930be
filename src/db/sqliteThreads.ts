/**
 * The SQLite work that must not run on the main thread, each on worker threads with connections
 * of their own (better-sqlite3 is synchronous): reads, which can take a hundred µs or more and
 * then run beside the main thread's HTTP work, and checkpoints, which copy pages and sync the
 * database file. The workers' code is a string, so it runs the same from the sources (tsx) and
 * from the build.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { TEXT_MEMO_MAX_CHARS, textKey, textMemo, type ReadRunner, type SqlValue } from './sql.js';

/** Where the workers load better-sqlite3 from: the main thread's copy. */
const driver = (): string => createRequire(import.meta.url).resolve('better-sqlite3');

/** A worker running `code` on `file`; it keeps the process alive only while it owes an answer. */
function sqliteWorker(code: string, file: string, options: Record<string, unknown> = {}): Worker {
  const worker = new Worker(code, { eval: true, workerData: { file, driver: driver(), ...options } });
  worker.unref();
  return worker;
}

/** Prepared statements a reader keeps (SQL with varying IN lists would otherwise pile up). */
const MAX_STATEMENTS = 500;

/**
 * A reader: `{ id, sql, params, run, memo, have }` in, `{ id, result }`, `{ id, same: true }` or
 * `{ id, error }` out. A text read (`memo` set: a number the main thread gives the statement and
 * values) remembers the text it sends. When the main thread says it `have`s the text last sent
 * for that memo and the new one is equal, the reader answers `same` instead of sending it again.
 * Both sides handle their messages in order, so that is the text the main thread holds.
 */
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true, timeout: 5000 });
const statements = new Map();
function statement(sql, raw) {
  const key = raw ? 'raw:' + sql : sql;
  let found = statements.get(key);
  if (!found) {
    if (statements.size >= workerData.maxStatements) statements.delete(statements.keys().next().value);
    found = db.prepare(sql);
    if (raw) found.raw(true);
    statements.set(key, found);
  }
  return found;
}
const memos = new Map();
let memoChars = 0;
/** Kept as the most recently used. */
function remember(memo, text) {
  const old = memos.get(memo);
  if (old !== undefined) memoChars -= old.length;
  memos.delete(memo);
  memos.set(memo, text);
  memoChars += text.length;
  for (const [oldest, kept] of memos) {
    if (memoChars <= workerData.memoMaxChars) break;
    memos.delete(oldest);
    memoChars -= kept.length;
  }
}
function text(s, params, memo, have) {
  const row = s.get(params);
  const value = row === undefined ? undefined : row[0];
  if (typeof value !== 'string') return { result: value };
  const same = have && memos.get(memo) === value;
  remember(memo, value);
  return same ? { same: true } : { result: value, memo };
}
parentPort.on('message', ({ id, sql, params, run, memo, have }) => {
  try {
    const s = statement(sql, memo !== undefined);
    if (memo !== undefined) return parentPort.postMessage({ id, ...text(s, params, memo, have) });
    const result = run ? { changes: s.run(params).changes } : s.reader ? s.all(params) : (s.run(params), []);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
`;

/** A text read as asked: its statement and values, its memo, and the data_version read before asking. */
interface TextAsked {
  key: string;
  memo: number;
  version: number;
}

interface Asked {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  text?: TextAsked;
}

/** A reader's answer: its result, or that a text read's text is the one it sent last. */
interface Answer {
  id: number;
  result?: unknown;
  /** Set when a text read's text was remembered under this memo. */
  memo?: number;
  same?: true;
  error?: { message: string; code?: string };
}

/** What a text read resolves to when the reader said `same` but the text is no longer kept here. */
const FORGOTTEN = Symbol('forgotten');

/** One reader thread and the questions it owes answers to; `settle` turns a text read's answer into its text. */
class Reader {
  readonly worker: Worker;
  readonly asked = new Map<number, Asked>();

  constructor(file: string, settle: (reader: Reader, asked: TextAsked, answer: Answer) => unknown) {
    this.worker = sqliteWorker(READER, file, { maxStatements: MAX_STATEMENTS, memoMaxChars: TEXT_MEMO_MAX_CHARS });
    this.worker.on('message', (answer: Answer) => {
      const asked = this.asked.get(answer.id);
      if (!asked) return;
      this.asked.delete(answer.id);
      if (!this.asked.size) this.worker.unref();
      if (answer.error) asked.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code }));
      else asked.resolve(asked.text ? settle(this, asked.text, answer) : answer.result);
    });
    // A reader that died (could not open the file) fails what it owed, and is not asked again.
    const fail = (err: Error) => {
      for (const { reject } of this.asked.values()) reject(err);
      this.asked.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', () => fail(new Error('the SQLite reader thread exited')));
  }

  get alive(): boolean {
    return this.worker.threadId !== -1;
  }
}

/**
 * Reads on a few threads, each with a read-only connection (WAL lets them read beside the
 * writer); a read goes to the thread that owes the fewest answers. Values are bound as the
 * writer binds them (`bind`).
 */
export class ReadWorkers implements ReadRunner {
  private readers?: Reader[];
  private nextId = 0;
  private nextMemo = 0;
  /**
   * A read-only connection of the main thread's own, for `PRAGMA data_version` alone: it changes
   * when any other connection, of any process (this one's writer included), commits.
   */
  private versions?: { db: Database.Database; get: () => number };
  private closed = false;
  /**
   * Each text read's last text, by statement and values: with the data_version read before it
   * was asked for, and the reader that sent it and the memo that reader knows it by.
   */
  private readonly known = textMemo<{ text: string; version: number; reader: Reader; memo: number }>();

  constructor(
    private readonly file: string,
    private readonly size: number,
    private readonly bind: (params: readonly SqlValue[]) => unknown[],
  ) {}

  /** The thread that owes the fewest answers. */
  private reader(): Reader | undefined {
    this.readers ??= Array.from({ length: this.size }, () => new Reader(this.file, (reader, asked, answer) => this.settle(reader, asked, answer)));
    const alive = this.readers.filter((r) => r.alive);
    return alive.length ? alive.reduce((best, r) => (r.asked.size < best.asked.size ? r : best)) : undefined;
  }

  private ask<T>(sql: string, params: readonly SqlValue[] = [], options: { run?: boolean; text?: (reader: Reader) => TextAsked & { have: boolean } } = {}): Promise<T> {
    const reader = this.reader();
    if (!reader) return Promise.reject(new Error('no SQLite reader thread is running'));
    const id = this.nextId++;
    const text = options.text?.(reader);
    return new Promise<T>((resolve, reject) => {
      if (!reader.asked.size) reader.worker.ref();
      reader.asked.set(id, { resolve: resolve as (value: unknown) => void, reject, text });
      reader.worker.postMessage({ id, sql, params: this.bind(params), run: options.run, memo: text?.memo, have: text?.have });
    });
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.ask<T[]>(sql, params);
  }

  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.ask<T[]>(sql, params))[0];
  }

  /**
   * Pages are read again and again unchanged. When nothing was committed since the same
   * statement and values were last asked for, their text is the one read then: the statement
   * must read no clock (no `now`, `random()`), so the same data gives the same text, and no
   * thread is woken. Otherwise a text the chosen reader sent last is not sent again, only
   * confirmed (READER).
   */
  async text(sql: string, params: readonly SqlValue[] = []): Promise<string | undefined> {
    const key = textKey(sql, params);
    // Read before the statement runs: a commit while it runs changes it for the next read.
    const version = this.dataVersion();
    for (;;) {
      const known = this.known.get(key);
      if (known?.version === version) return known.text;
      const answer = await this.ask<string | undefined | typeof FORGOTTEN>(sql, params, {
        text: (reader) => {
          const kept = this.known.get(key);
          return kept?.reader === reader ? { key, memo: kept.memo, version, have: true } : { key, memo: this.nextMemo++, version, have: false };
        },
      });
      if (answer !== FORGOTTEN) return answer;
    }
  }

  /**
   * A text read's answer, kept or taken from what is kept. A reader's answers arrive in the order
   * it gave them, so the text kept under its memo is the one it compared with.
   */
  private settle(reader: Reader, { key, memo, version }: TextAsked, answer: Answer): unknown {
    if (answer.same) {
      const kept = this.known.get(key);
      if (kept?.reader !== reader || kept.memo !== memo) return FORGOTTEN;
      // Still the text as of the version read before this ask.
      kept.version = version;
      return kept.text;
    }
    if (typeof answer.result === 'string' && answer.memo !== undefined) this.known.set(key, { text: answer.result, version, reader, memo });
    else this.known.delete(key);
    return answer.result;
  }

  /** NaN (equal to nothing) when it cannot be read at once: the main thread never waits for a lock. */
  private dataVersion(): number {
    if (this.closed) return Number.NaN;
    try {
      if (!this.versions) {
        const db = new Database(this.file, { readonly: true, fileMustExist: true, timeout: 0 });
        const statement = db.prepare('PRAGMA data_version').pluck();
        this.versions = { db, get: () => statement.get() as number };
      }
      return this.versions.get();
    } catch {
      return Number.NaN;
    }
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.ask<{ changes: number }>(sql, params, { run: true });
  }

  async close(): Promise<void> {
    const readers = this.readers ?? [];
    this.readers = [];
    this.closed = true;
    this.versions?.db.close();
    this.versions = undefined;
    await Promise.all(readers.map((r) => r.worker.terminate()));
  }
}

/**
 * The PASSIVE checkpoint's own connection, on a thread of its own: it copies pages and syncs the
 * database file, milliseconds the main thread must not wait.
 *
 * 'run' is SQLite's own checkpoint: it syncs the WAL (frames may be committed and not yet on
 * disk), copies, and syncs the database file. 'held' is asked only while this process's writes
 * are held and everything it committed is on disk, which the WAL's sync then only repeats: it
 * copies without syncing, then syncs the database file itself before anything may write again
 * (the next write starts the WAL over, and what it overwrites must be in the file by then). Of a
 * held pass's ~4.6 ms under bench:ws's DM load, the two syncs were ~4; copying took 0.4 ms.
 * Another process's write is kept out by holding SQLite's write lock on a third connection; when
 * another process holds it, the pass is SQLite's own instead.
 */
const CHECKPOINTER = `
const fs = require('node:fs');
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
db.pragma('synchronous = FULL');
const copier = new Database(workerData.file, { timeout: 5000 });
copier.pragma('synchronous = OFF');
const lock = new Database(workerData.file, { timeout: 0 });
const file = fs.openSync(workerData.file, 'r+');
function held() {
  try {
    lock.exec('BEGIN IMMEDIATE');
  } catch {
    return db.pragma('wal_checkpoint(PASSIVE)');
  }
  try {
    copier.pragma('wal_checkpoint(PASSIVE)');
    fs.fdatasyncSync(file);
  } finally {
    lock.exec('ROLLBACK');
  }
}
parentPort.on('message', (message) => {
  if (message === 'close') {
    for (const c of [db, copier, lock]) c.close();
    fs.closeSync(file);
    parentPort.postMessage(null);
    return;
  }
  try {
    if (message === 'held') held();
    else db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage(null);
  } catch (err) {
    parentPort.postMessage(String(err));
  }
});
`;

export class Checkpointer {
  private readonly worker: Worker;

  constructor(file: string) {
    this.worker = sqliteWorker(CHECKPOINTER, file);
    // A thread that failed (could not open the file) has exited: asking it answers at once.
    this.worker.on('error', () => undefined);
  }

  /** Resolves when a checkpoint ran; a failed one leaves the WAL as it was, for the next. */
  run(): Promise<void> {
    return this.ask('run');
  }

  /** The same, asked only while this process's writes are held and on disk (CHECKPOINTER). */
  runHeld(): Promise<void> {
    return this.ask('held');
  }

  async close(): Promise<void> {
    await this.ask('close');
    await this.worker.terminate();
  }

  /** The worker's answer; it keeps the process alive only while one is awaited. */
  private ask(message: 'run' | 'held' | 'close'): Promise<void> {
    if (this.worker.threadId === -1) return Promise.resolve();
    this.worker.ref();
    return new Promise((resolve) => {
      const answered = () => {
        this.worker.off('message', answered).off('exit', answered).unref();
        resolve();
      };
      this.worker.on('message', answered).on('exit', answered);
      this.worker.postMessage(message);
    });
  }
}
