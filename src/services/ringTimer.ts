/**
 * Ends unanswered rings: a pending call older than the ring timeout becomes missed.
 * Server-side and restart-proof: one timer per call started here, a sweep at start for calls
 * left ringing by a previous run, and a periodic sweep for calls started on other processes.
 * CallService.sweep() expires with conditional updates, so overlapping timers and sweeps (on
 * this or other processes) publish each miss once.
 */
import type { Logger } from 'pino';
import type { EventBus } from '../events/bus.js';
import type { CallService, Ringing } from './calls.js';

const FINISHING = ['call.accepted', 'call.rejected', 'call.ended', 'call.missed'] as const;

export class RingTimer {
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private unsubscribe: (() => void)[] = [];
  private interval?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly calls: CallService,
    private readonly bus: EventBus,
    private readonly logger: Logger,
    private readonly sweepEveryMs = 10_000,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    this.unsubscribe = [
      this.bus.subscribe('call.started', ({ call }) => this.schedule({ id: call.id, deadline: this.calls.ringDeadline(call.started_at) })),
      ...FINISHING.map((name) => this.bus.subscribe(name, ({ call }) => this.cancel(call.id))),
    ];
    await this.sweep();
    this.interval = setInterval(() => void this.track(this.sweep()), this.sweepEveryMs);
    this.interval.unref();
  }

  /** Stops every timer and waits for expiries under way, so the database can close after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    clearInterval(this.interval);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.running);
  }

  private async sweep(where?: Parameters<CallService['sweep']>[0]): Promise<void> {
    for (const ringing of await this.calls.sweep(where)) this.schedule(ringing);
  }

  private schedule({ id, deadline }: Ringing): void {
    // A sweep that was under way when stop() ran must not leave timers behind.
    if (this.stopped) return;
    this.cancel(id);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      // The sweep re-checks the deadline in SQL and reschedules if the timer fired a hair early.
      void this.track(this.sweep({ id }));
    }, Math.max(0, deadline - Date.now()));
    timer.unref();
    this.timers.set(id, timer);
  }

  private cancel(id: number): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  /** Keeps a background expiry in view of stop() and logs its failure instead of crashing. */
  private track(work: Promise<void>): Promise<void> {
    const done = work.catch((err: unknown) => this.logger.error({ err }, 'ring timeout sweep failed')).finally(() => this.running.delete(done));
    this.running.add(done);
    return done;
  }
}
