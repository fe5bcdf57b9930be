/**
 * PostgreSQL behind the Sql interface: a pg pool of its own. Each write job is its own
 * transaction (PostgreSQL already overlaps concurrent commits).
 */
import pg from 'pg';
import { rowCount, SharedStates, TURN_SCOPES, type Limit, type ReadRunner, type Sql, type SqlRunner, type SqlValue, type WriteTx } from './sql.js';
import { settle, sqliteDate, type Job, type Publication } from './sqlite.js';
import { snapshotTexts } from './postgresTexts.js';

/**
 * Each statement as pg runs it: `?` placeholders → `$1, $2, …` (our SQL never has a literal `?`),
 * and a name, so that every pooled connection prepares it once and PostgreSQL does not parse and
 * plan it again on each call (planning cost more than running the hot reads: 1.7 ms against
 * 1.2 ms for a conversation's page). Our statements' texts are few (lists of ids are one array
 * parameter), and past the bound the rest run unnamed.
 */
const statements = new Map<string, { name?: string; text: string }>();
const MAX_STATEMENTS = 2000;
function statement(sql: string, values: readonly SqlValue[]): pg.QueryConfig {
  let known = statements.get(sql);
  if (!known) {
    let n = 0;
    const text = sql.replace(/\?/g, () => `$${++n}`);
    known = statements.size < MAX_STATEMENTS ? { name: `jvai_${statements.size}`, text } : { text };
    if (known.name) statements.set(sql, known);
  }
  return { ...known, values: values as unknown[] };
}

function runner(client: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await client.query(statement(sql, params))).rows as T[];
    },
    async get<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await client.query(statement(sql, params))).rows[0] as T | undefined;
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return { changes: (await client.query(statement(sql, params))).rowCount ?? 0 };
    },
  };
}

/**
 * Every pooled connection's session: the statements above are prepared once, yet PostgreSQL's
 * plan cache kept planning some of them again on every call. A generic plan guesses `LIMIT $n`
 * at a tenth of the table, which made it look costlier than a custom plan for a 21-row page, so
 * the posts list was planned per call (0.15 ms planning for 0.15 ms running). Generic plans suit
 * these short, keyed statements; JIT goes off with them, since those inflated guesses made
 * PostgreSQL JIT-compile a 21-row page (13 ms).
 */
const SESSION_OPTIONS = '-c plan_cache_mode=force_generic_plan -c jit=off -c TimeZone=UTC -c DateStyle=ISO';

/** `timestamptz` as the session above prints it: UTC, so always `+00`. */
const PG_UTC = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;
const TIMESTAMPTZ = 1184;

/**
 * Dates come as the text SQLite stores (src/db/sqlite.ts sqliteDate), not as Date objects: the
 * presenters turn that text into ISO 8601 without parsing it, where pg's Date parser followed by
 * toISOString cost ~10% of a PostgreSQL feed page's CPU. Sub-millisecond digits are cut, as a Date
 * would cut them.
 */
function storedDate(text: string): string {
  const m = PG_UTC.exec(text);
  if (!m) return sqliteDate(new Date(text));
  return `${m[1]}.${`${m[2] ?? ''}000`.slice(0, 3)} +00:00`;
}
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === TIMESTAMPTZ && format !== 'binary' ? storedDate : pg.types.getTypeParser(oid, format))) as typeof pg.types.getTypeParser,
};

/** PostgreSQL 13, as `server_version_num`. */
const MIN_SERVER_VERSION = 130000;

export class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const;
  readonly read: ReadRunner;
  private readonly pool: pg.Pool;

  constructor(url: string, max: number) {
    this.pool = new pg.Pool({ connectionString: url, max, options: SESSION_OPTIONS, types });
    const read = runner(this.pool);
    this.read = { ...read, text: snapshotTexts(read) };
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  /** Fails unless the server is PostgreSQL 13 or later (text reads ask for `pg_current_snapshot()`). */
  async requireVersion(): Promise<void> {
    const row = await this.read.get<{ v: string }>('SELECT current_setting(?) AS v', ['server_version_num']);
    const version = Number(row?.v);
    if (!(version >= MIN_SERVER_VERSION)) throw new Error(`jvai needs PostgreSQL 13 or later; this server is version ${Math.floor(version / 10000)}`);
  }

  limit(rows: number): Limit {
    return { sql: 'LIMIT ?', params: [rowCount(rows)] };
  }

  /** Settles once every transaction that sent its COMMIT so far has been answered (write()). */
  private answered: Promise<void> = Promise.resolve();

  /**
   * Runs `work` in a transaction of its own. Jobs that announce events are answered in the order
   * they sent COMMIT: two transactions logging for the same user take that user's counter row in
   * turn, so the second sends COMMIT after the first did, and its events must not leave first.
   * Their COMMITs' answers come back on different connections, which this process may read in
   * either order.
   */
  async write<T>(work: (tx: WriteTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const job: Job = { work: work as Job['work'], resolve: () => undefined, reject: () => undefined };
    let publications: Publication[] = [];
    const answer = new Promise<T>((resolve, reject) => {
      job.resolve = resolve as (v: unknown) => void;
      job.reject = reject;
    });
    let turn: { previous: Promise<void>; done: () => void } | undefined;
    try {
      await client.query('BEGIN');
      try {
        const shared = new SharedStates();
        const db = runner(client);
        const value = await work({
          ...db,
          afterCommit: (fn) => publications.push({ job, fn }),
          shared: (key, create, flush) => shared.get(key, create, flush),
          takeTurns: async (scope, ids) => {
            for (const id of [...new Set(ids)].sort((a, b) => a - b)) await db.run('SELECT pg_advisory_xact_lock(?, ?)', [TURN_SCOPES[scope], id]);
          },
        });
        await shared.flush(db);
        job.outcome = { ok: true, value };
        if (publications.length) turn = this.takeAnswerTurn();
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        publications = [];
        job.outcome = { ok: false, error };
      }
    } finally {
      client.release();
    }
    if (turn) await turn.previous;
    settle([job], publications);
    turn?.done();
    return answer;
  }

  /** A place in the order of answers: wait for `previous`, answer, then call `done`. */
  private takeAnswerTurn(): { previous: Promise<void>; done: () => void } {
    const previous = this.answered;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.answered = previous.then(() => mine);
    return { previous, done };
  }

  /** Runs `fn` holding a session-level advisory lock, so other processes wait their turn. */
  async holdingLock<T>(key: number, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [key]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
