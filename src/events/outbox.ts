/**
 * The per-user event log. A service logs a durable event with log() inside the write job
 * (Sql.write) that makes the change, naming who hears it: each recipient gets the next number of
 * their own sequence and one log row, written in that job's transaction. The event goes on the
 * bus only once the transaction has committed, so a change the server acknowledged always has its
 * log rows, and a rolled-back one was never announced. Realtime clients that were away replay the
 * rows after the last seq they saw.
 */
import type { Logger } from 'pino';
import type { EventBus } from './bus.js';
import type { DomainEvents, LoggedEventName, LoggedEvents, Seqs } from './types.js';
import type { Sql, SqlRunner, SqlValue, WriteTx } from '../db/sql.js';
import type { DbDate } from '../db/rows.js';

/** One row of a user's log. */
export type LoggedEvent = { [K in LoggedEventName]: { seq: number; name: K; payload: LoggedEvents[K]; createdAt: string } }[LoggedEventName];

/** What a user missed after a given seq. */
export interface Missed {
  /** The user's latest seq. */
  latest: number;
  /** In seq order, at most `limit + 1` (so the caller can tell there were more). */
  events: LoggedEvent[];
  /** Part of what was missed is no longer in the log (pruned), or `since` is ahead of the log. */
  incomplete: boolean;
}

export interface Retention {
  /** Rows older than this are deleted. */
  maxAgeDays: number;
  /** Only a user's newest rows are kept. */
  maxPerUser: number;
  /** How often pruning runs. */
  everyMs: number;
}

/** Log rows per INSERT statement. */
const LOG_CHUNK = 1000;
/** From this many recipients on, a payload is stored once and the log rows point at it. */
const SHARED_PAYLOAD_FROM = 3;

export const RETENTION: Retention = { maxAgeDays: 30, maxPerUser: 10_000, everyMs: 60 * 60 * 1000 };

/** An event to log, and the seqs its recipients get once it is recorded. */
interface Entry {
  name: LoggedEventName;
  payload: object;
  /** Distinct user ids. */
  recipients: number[];
  /** Where the payload is stored once for all recipients (event_payloads). */
  payloadId?: number;
  seqs: Seqs;
}

const entryOf = (name: LoggedEventName, payload: object, userIds: number[], payloadId?: number): Entry => ({
  name,
  payload,
  recipients: [...new Set(userIds.map(Number))],
  payloadId,
  seqs: {},
});

interface EventRow {
  seq: number | string;
  name: LoggedEventName;
  payload: string;
  createdAt: DbDate;
}

export class EventLog {
  private pruner?: NodeJS.Timeout;
  private pruning?: Promise<void>;

  constructor(
    private readonly sql: Sql,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly retention: Retention = RETENTION,
  ) {}

  /**
   * Logs an event for `recipients` inside a raw write job, and publishes it once the job
   * committed. A payload for many recipients is stored once (event_payloads), not once each.
   * The log rows of all the jobs of a transaction are written together just before its COMMIT:
   * on SQLite, two statements per batch of DMs instead of two per DM.
   */
  async log<K extends LoggedEventName>(tx: WriteTx, name: K, payload: LoggedEvents[K], recipients: number[]): Promise<void> {
    let payloadId: number | undefined;
    if (recipients.length >= SHARED_PAYLOAD_FROM) {
      const row = await tx.get<{ id: number }>('INSERT INTO event_payloads (payload, created_at) VALUES (?, ?) RETURNING id', [JSON.stringify(payload), new Date()]);
      payloadId = Number(row!.id);
    }
    const entry = entryOf(name, payload, recipients, payloadId);
    tx.shared(this, () => [] as Entry[], (entries, db) => this.record(db, entries)).push(entry);
    tx.afterCommit(() => this.bus.publish(name, { ...payload, seqs: entry.seqs } as DomainEvents[K]));
  }

  /**
   * Gives the entries' recipients the next numbers of their sequences, in entry order, and
   * writes the log rows. The counters' upsert holds its row locks until COMMIT, so on PostgreSQL
   * concurrent transactions for the same user commit in seq order; ids are sorted so two never
   * lock in opposite orders.
   */
  private async record(db: SqlRunner, entries: Entry[]): Promise<void> {
    const counts = new Map<number, number>();
    for (const { recipients } of entries) for (const userId of recipients) counts.set(userId, (counts.get(userId) ?? 0) + 1);
    const users = [...counts.keys()].sort((a, b) => a - b);
    /** Each user's next seq in these entries. */
    const next = new Map<number, number>();
    type SeqRow = { user_id: number | string; seq: number | string };
    for (let i = 0; i < users.length; i += LOG_CHUNK) {
      const chunk = users.slice(i, i + LOG_CHUNK);
      const bump = `INSERT INTO user_event_counters (user_id, seq) VALUES ${chunk.map(() => '(?, ?)').join(', ')}
         ON CONFLICT (user_id) DO UPDATE SET seq = user_event_counters.seq + excluded.seq`;
      const params = chunk.flatMap((userId) => [userId, counts.get(userId)!]);
      const rows = await db.all<SeqRow>(`${bump} RETURNING user_id, seq`, params);
      for (const row of rows) next.set(Number(row.user_id), Number(row.seq) - counts.get(Number(row.user_id))! + 1);
    }
    const now = new Date();
    const values: SqlValue[][] = [];
    for (const entry of entries) {
      const json = entry.payloadId === undefined ? JSON.stringify(entry.payload) : '';
      for (const userId of entry.recipients) {
        const seq = next.get(userId);
        // The upsert returned a row for every recipient: a missing one is a bug.
        if (seq === undefined) throw new Error(`no event seq was assigned to user ${userId}`);
        next.set(userId, seq + 1);
        entry.seqs[userId] = seq;
        values.push([userId, seq, entry.name, json, entry.payloadId ?? null, now]);
      }
    }
    // In chunks: SQLite binds at most 32,766 values per statement.
    for (let i = 0; i < values.length; i += LOG_CHUNK) {
      const chunk = values.slice(i, i + LOG_CHUNK);
      await db.run(`INSERT INTO user_events (user_id, seq, name, payload, payload_id, created_at) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`, chunk.flat());
    }
  }

  /** The user's latest seq (0 before their first event). */
  async latest(userId: number): Promise<number> {
    const row = await this.sql.read.get<{ seq: number | string }>('SELECT seq FROM user_event_counters WHERE user_id = ?', [userId]);
    return row ? Number(row.seq) : 0;
  }

  /** The user's events after `since`, oldest first, at most `limit + 1`. */
  async since(userId: number, since: number, limit: number): Promise<Missed> {
    const rows = this.sql.limit(limit + 1);
    const found = await this.sql.read.all<EventRow>(
      `SELECT e.seq, e.name, CASE WHEN e.payload_id IS NULL THEN e.payload ELSE p.payload END AS payload, e.created_at AS "createdAt"
         FROM user_events e LEFT JOIN event_payloads p ON p.id = e.payload_id
        WHERE e.user_id = ? AND e.seq > ? ORDER BY e.seq ${rows.sql}`,
      [userId, since, ...rows.params],
    );
    // Read after the rows: a row committed in between only makes `latest` newer, never a hole.
    const latest = await this.latest(userId);
    const events = found.map((r) => ({ seq: Number(r.seq), name: r.name, payload: JSON.parse(r.payload), createdAt: new Date(r.createdAt).toISOString() }) as LoggedEvent);
    // Sequences have no holes (a rolled-back event rolls its counter back), so a first row
    // other than since + 1 means older rows were pruned.
    const incomplete = since > latest || (latest > since && events[0]?.seq !== since + 1);
    return { latest, events, incomplete };
  }

  /** Deletes rows past their age or beyond each user's newest `maxPerUser`. */
  async prune(): Promise<void> {
    const cutoff = new Date(Date.now() - this.retention.maxAgeDays * 24 * 60 * 60 * 1000);
    await this.sql.write(async (tx) => {
      await tx.run('DELETE FROM user_events WHERE created_at < ?', [cutoff]);
      // A shared payload is as old as the rows pointing at it; rows pruned for a user's count limit leave it to age out.
      await tx.run('DELETE FROM event_payloads WHERE created_at < ?', [cutoff]);
      await tx.run(
        `DELETE FROM user_events WHERE id IN (
           SELECT e.id FROM user_events e JOIN user_event_counters c ON c.user_id = e.user_id WHERE e.seq <= c.seq - ?)`,
        [this.retention.maxPerUser],
      );
    });
  }

  /** Prunes now and then every `everyMs`, until stopPruning(). */
  startPruning(): void {
    const run = () => {
      this.pruning ??= this.prune()
        .catch((err: unknown) => this.logger.error({ err }, 'event log pruning failed'))
        .finally(() => (this.pruning = undefined));
    };
    run();
    this.pruner = setInterval(run, this.retention.everyMs);
    this.pruner.unref();
  }

  async stopPruning(): Promise<void> {
    clearInterval(this.pruner);
    await this.pruning;
  }
}
