/**
 * Puts each user's logged events back in seq order on this process before their connections
 * hear them. One process publishes a user's events in commit order, but with several, two
 * events for one user committed moments apart on two processes are published by each, and
 * Redis carries them in whichever order the publishes reach it. A client that saw the newer one
 * first and then resumed from its seq would never get the older.
 *
 * So an event whose predecessor has not come yet waits for it. If the predecessor does not come
 * within `gapWaitMs` (its process died between COMMIT and publish, or Redis refused the
 * publish), it is read from the log: a user's events commit in seq order (outbox.ts), so when a
 * later one is out, the earlier one is committed.
 *
 * Only users with a connection here are tracked, from the seq they were at when that connection
 * was admitted: older events were committed before the client was told it is connected, and
 * reach it only by resuming (`since`).
 */
import type { Logger } from 'pino';
import type { EventLog, LoggedEvent } from '../events/outbox.js';

/** How long an event waits for its predecessor before that is read from the log. */
export const GAP_WAIT_MS = 100;

interface Track {
  /** The seq whose turn it is. */
  next: number;
  /** Arrivals that are not their turn yet, by seq. */
  waiting: Map<number, () => void>;
  timer?: NodeJS.Timeout;
  /** A read of the log is filling a gap: arrivals wait until it is done. */
  filling: boolean;
}

/** The largest or smallest of many seqs (spreading them into Math.max could overflow the stack). */
const extreme = (seqs: Iterable<number>, pick: (a: number, b: number) => number): number => {
  let found: number | undefined;
  for (const seq of seqs) found = found === undefined ? seq : pick(found, seq);
  return found!;
};

export class SeqOrder {
  private readonly tracks = new Map<number, Track>();

  constructor(
    private readonly log: Pick<EventLog, 'since'>,
    /** Delivers an event read from the log to the user's connections. */
    private readonly fromLog: (userId: number, event: LoggedEvent) => void,
    private readonly logger: Logger,
    private readonly gapWaitMs = GAP_WAIT_MS,
  ) {}

  /** Starts ordering a user's events after `latest` (their first connection here, admitted at that seq). */
  track(userId: number, latest: number): void {
    if (!this.tracks.has(userId)) this.tracks.set(userId, { next: latest + 1, waiting: new Map(), filling: false });
  }

  /** Stops ordering a user's events (their last connection here closed). */
  untrack(userId: number): void {
    clearTimeout(this.tracks.get(userId)?.timer);
    this.tracks.delete(userId);
  }

  /** Runs `deliver` for the user's event `seq` in its turn: now, later, or never if it is older (or the log supplied it). */
  offer(userId: number, seq: number, deliver: () => void): void {
    const track = this.tracks.get(userId);
    if (!track) return deliver();
    if (seq < track.next) return;
    track.waiting.set(seq, deliver);
    this.drain(userId, track);
  }

  /** Delivers whatever is in turn; waits for a gap to fill, and reads it from the log if it does not. */
  private drain(userId: number, track: Track): void {
    if (track.filling) return;
    for (let deliver = track.waiting.get(track.next); deliver; deliver = track.waiting.get(track.next)) {
      track.waiting.delete(track.next++);
      deliver();
    }
    if (!track.waiting.size) {
      clearTimeout(track.timer);
      track.timer = undefined;
    } else if (!track.timer) {
      track.timer = setTimeout(() => void this.fill(userId, track), this.gapWaitMs);
      track.timer.unref();
    }
  }

  /** Delivers the missing events from the log, with the waiting ones in their turns. */
  private async fill(userId: number, track: Track): Promise<void> {
    track.timer = undefined;
    track.filling = true;
    const upTo = extreme(track.waiting.keys(), Math.max);
    try {
      const missed = await this.log.since(userId, track.next - 1, upTo - track.next);
      if (this.tracks.get(userId) !== track) return;
      for (const event of missed.events) {
        if (event.seq !== track.next || event.seq > upTo) break;
        const waiting = track.waiting.get(event.seq);
        track.waiting.delete(track.next++);
        if (waiting) waiting();
        else this.fromLog(userId, event);
      }
    } catch (err) {
      this.logger.warn({ err, userId }, 'could not read missing events from the log');
    } finally {
      track.filling = false;
    }
    if (this.tracks.get(userId) !== track || !track.waiting.size) return;
    if (!track.waiting.has(track.next)) {
      // No longer in the log (pruned), or the read failed: skip to what is here rather than hold it forever.
      const first = extreme(track.waiting.keys(), Math.min);
      this.logger.warn({ userId, from: track.next, to: first - 1 }, 'events missing from the bus and the log were skipped');
      track.next = first;
    }
    this.drain(userId, track);
  }
}
