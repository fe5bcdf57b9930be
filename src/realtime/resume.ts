/**
 * Resuming after a disconnect. A connection that says which seq it saw last first gets,
 * from the database, every logged event after it that it would have heard live (the hub's
 * own routing decides), in order; then it continues live. Live frames that arrive meanwhile
 * are held back and, once the replay is done, passed on unless the replay already had them:
 * the connection joins its rooms before reading the log, so nothing falls in between.
 */
import type { EventLog } from '../events/outbox.js';
import { replayFrames, type HubConnection } from './hub.js';
import type { Outbound } from './frames.js';
import { REPLAY_LIMIT } from '../schemas/protocol.js';

export class ResumableConnection implements HubConnection {
  readonly userId: number;
  /** Live frames held back during a replay. */
  private held: [Outbound, number | undefined][] | null = null;
  /** The newest seq the client has (or was told to re-fetch up to); older live frames are dropped. */
  private seen = 0;

  constructor(private readonly target: HubConnection) {
    this.userId = target.userId;
  }

  send(frame: Outbound, seq?: number): void {
    if (this.held) this.held.push([frame, seq]);
    else if (seq === undefined || seq > this.seen) this.target.send(frame, seq);
  }

  close(code: number, reason: string): void {
    this.target.close(code, reason);
  }

  /**
   * Replays the user's events after `since` that `roomNames` would have carried. When more than
   * REPLAY_LIMIT were missed, or some are no longer in the log, sends `resync(latest)` instead.
   * Call after the hub added this connection to `roomNames`.
   */
  async replay(log: EventLog, since: number, roomNames: string[], resync: (latestSeq: number) => Outbound): Promise<void> {
    this.held = [];
    this.seen = since;
    try {
      const missed = await log.since(this.userId, since, REPLAY_LIMIT);
      if (missed.incomplete || missed.events.length > REPLAY_LIMIT) {
        this.target.send(resync(missed.latest));
        this.seen = missed.latest;
        return;
      }
      const listening = new Set(roomNames);
      for (const event of missed.events) {
        for (const frame of replayFrames(event, this.userId, listening)) this.target.send(frame, event.seq);
        this.seen = event.seq;
      }
    } finally {
      const held = this.held;
      this.held = null;
      for (const [frame, seq] of held) this.send(frame, seq);
    }
  }
}
