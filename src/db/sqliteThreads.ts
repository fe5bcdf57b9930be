/**
 * The SQLite work that must not run on the main thread, each on worker threads with connections
 * of their own (better-sqlite3 is synchronous): reads, which can take a hundred µs or more and
 * then run beside the main thread's HTTP work, and checkpoints, which copy pages and sync the
 * database file. The workers' code is a string, so it runs the same from the sources (tsx) and
 * from the build.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { SqlRunner, SqlValue } from './sql.js';

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

/** A reader: `{ id, sql, params, run }` in, `{ id, result }` or `{ id, error }` out. */
const READER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { readonly: true, fileMustExist: true, timeout: 5000 });
const statements = new Map();
function statement(sql) {
  let found = statements.get(sql);
  if (!found) {
    if (statements.size >= workerData.maxStatements) statements.delete(statements.keys().next().value);
    found = db.prepare(sql);
    statements.set(sql, found);
  }
  return found;
}
parentPort.on('message', ({ id, sql, params, run }) => {
  try {
    const s = statement(sql);
    const result = run ? { changes: s.run(params).changes } : s.reader ? s.all(params) : (s.run(params), []);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
`;

interface Asked {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** One reader thread and the questions it owes answers to. */
class Reader {
  readonly worker: Worker;
  readonly asked = new Map<number, Asked>();

  constructor(file: string) {
    this.worker = sqliteWorker(READER, file, { maxStatements: MAX_STATEMENTS });
    this.worker.on('message', ({ id, result, error }: { id: number; result?: unknown; error?: { message: string; code?: string } }) => {
      const asked = this.asked.get(id);
      if (!asked) return;
      this.asked.delete(id);
      if (!this.asked.size) this.worker.unref();
      if (error) asked.reject(Object.assign(new Error(error.message), { code: error.code }));
      else asked.resolve(result);
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
export class ReadWorkers implements SqlRunner {
  private readers?: Reader[];
  private nextId = 0;

  constructor(
    private readonly file: string,
    private readonly size: number,
    private readonly bind: (params: readonly SqlValue[]) => unknown[],
  ) {}

  private ask<T>(sql: string, params: readonly SqlValue[] = [], run = false): Promise<T> {
    this.readers ??= Array.from({ length: this.size }, () => new Reader(this.file));
    const alive = this.readers.filter((r) => r.alive);
    if (!alive.length) return Promise.reject(new Error('no SQLite reader thread is running'));
    const reader = alive.reduce((best, r) => (r.asked.size < best.asked.size ? r : best));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (!reader.asked.size) reader.worker.ref();
      reader.asked.set(id, { resolve: resolve as (value: unknown) => void, reject });
      reader.worker.postMessage({ id, sql, params: this.bind(params), run });
    });
  }

  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.ask<T[]>(sql, params);
  }

  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return (await this.ask<T[]>(sql, params))[0];
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    return this.ask<{ changes: number }>(sql, params, true);
  }

  async close(): Promise<void> {
    const readers = this.readers ?? [];
    this.readers = [];
    await Promise.all(readers.map((r) => r.worker.terminate()));
  }
}

/**
 * The PASSIVE checkpoint's own connection, on a thread of its own: it copies pages and syncs the
 * database file, milliseconds the main thread must not wait.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 5000 });
db.pragma('synchronous = FULL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.postMessage(null);
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
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

  async close(): Promise<void> {
    await this.ask('close');
    await this.worker.terminate();
  }

  /** The worker's answer; it keeps the process alive only while one is awaited. */
  private ask(message: 'run' | 'close'): Promise<void> {
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
