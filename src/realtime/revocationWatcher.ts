/**
 * Closes this process's sockets of sessions revoked anywhere. Revocations made in this
 * process (or in any, with Redis) arrive at once over the bus; this poll of the
 * session_revocations table is what reaches sockets when another process without a shared
 * bus — `jvai admin users ban`, or a sibling server on the same database — revoked them.
 * One indexed query per interval; closing an already closed socket is a no-op, so hearing a
 * revocation both ways is harmless.
 * On PostgreSQL ids are handed out before COMMIT, so a row may become visible after a higher
 * one: ids skipped over are asked for again until they show up or are surely rolled back.
 */
import type { Logger } from 'pino';
import type { RevocationLog } from '../services/revocations.js';
import type { Hub } from './hub.js';

export interface RevocationWatchOptions {
  /** How often the table is read: the longest a revocation made elsewhere takes to close sockets. */
  pollMs: number;
  /** Rows older than this are pruned; far longer than any poll could lag. */
  keepMs: number;
}

export const REVOCATION_WATCH: RevocationWatchOptions = { pollMs: 250, keepMs: 60 * 60 * 1000 };

const PRUNE_EVERY_POLLS = 2400;
/** A skipped id not seen for this long belongs to a rolled-back transaction. */
const GAP_MS = 60_000;
/** Bound on the ids remembered as skipped. */
const MAX_GAPS = 1_000;

export class RevocationWatcher {
  private last = 0;
  /** Ids below `last` not seen yet → when they were skipped. */
  private readonly gaps = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private polls = 0;

  constructor(
    private readonly log: RevocationLog,
    private readonly hub: Pick<Hub, 'revoke'>,
    private readonly logger: Logger,
    private readonly options: RevocationWatchOptions = REVOCATION_WATCH,
  ) {}

  /** Starts after the newest existing row: sockets opened from now on were authenticated after it. */
  async start(): Promise<void> {
    this.last = await this.log.latestId();
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch((err: unknown) => this.logger.error({ err }, 'reading session revocations failed'))
        .finally(() => (this.polling = undefined));
    }, this.options.pollMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const now = Date.now();
    for (const [id, since] of this.gaps) if (now - since > GAP_MS) this.gaps.delete(id);
    for (const revocation of await this.log.after(this.last, [...this.gaps.keys()])) {
      this.hub.revoke(revocation.sessionId);
      if (revocation.id > this.last) {
        for (let id = Math.max(this.last + 1, revocation.id - MAX_GAPS); id < revocation.id; id++) this.gaps.set(id, now);
        this.last = revocation.id;
      } else {
        this.gaps.delete(revocation.id);
      }
    }
    while (this.gaps.size > MAX_GAPS) this.gaps.delete(this.gaps.keys().next().value as number);
    if (++this.polls % PRUNE_EVERY_POLLS === 0) await this.log.prune(this.options.keepMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }
}
