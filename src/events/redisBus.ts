/**
 * The event bus across processes: every event is published on one Redis channel and
 * delivered to local subscribers when it comes back, so all processes (this one included)
 * see the same events through the same path.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { InProcessBus, type EventBus, type Handler } from './bus.js';
import type { DomainEventName, DomainEvents } from './types.js';

interface Envelope {
  name: DomainEventName;
  payload: unknown;
}

export class RedisBus implements EventBus {
  private readonly local = new InProcessBus();

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {
    sub.on('message', (ch: string, raw: string) => {
      if (ch !== channel) return;
      try {
        const { name, payload } = JSON.parse(raw) as Envelope;
        this.local.deliver(name, payload as DomainEvents[typeof name]);
      } catch (err) {
        logger.warn({ err }, 'dropped a malformed bus message');
      }
    });
  }

  static async connect(url: string, logger: Logger, channel = 'jvai:events'): Promise<RedisBus> {
    const pub = new Redis(url, { lazyConnect: true });
    const sub = new Redis(url, { lazyConnect: true });
    for (const client of [pub, sub]) client.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
    await Promise.all([pub.connect(), sub.connect()]);
    await sub.subscribe(channel);
    return new RedisBus(pub, sub, channel, logger);
  }

  /** The publishing connection, for other shared state (rate limits, presence). */
  get client(): Redis {
    return this.pub;
  }

  async publish<K extends DomainEventName>(name: K, payload: DomainEvents[K]): Promise<void> {
    try {
      await this.pub.publish(this.channel, JSON.stringify({ name, payload }));
    } catch (err) {
      // The write that caused the event is committed; realtime clients catch up from the database.
      this.logger.error({ err, event: name }, 'could not publish event to redis');
    }
  }

  subscribe<K extends DomainEventName>(name: K, handler: Handler<K>): () => void {
    return this.local.subscribe(name, handler);
  }

  async close(): Promise<void> {
    await this.local.close();
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }
}
