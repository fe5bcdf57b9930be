import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { DomainEventName, DomainEvents } from './types.js';
import type { RedisBus } from './redisBus.js';

export type Handler<K extends DomainEventName> = (payload: DomainEvents[K]) => void;

/** Where domain events go. In-process by default; a Redis implementation shares it across processes. */
export interface EventBus {
  publish<K extends DomainEventName>(name: K, payload: DomainEvents[K]): Promise<void>;
  subscribe<K extends DomainEventName>(name: K, handler: Handler<K>): () => void;
  close(): Promise<void>;
}

export class InProcessBus implements EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  async publish<K extends DomainEventName>(name: K, payload: DomainEvents[K]): Promise<void> {
    this.deliver(name, payload);
  }

  /** Hands an event to local subscribers; also used by bus implementations that receive remote events. */
  deliver<K extends DomainEventName>(name: K, payload: DomainEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  subscribe<K extends DomainEventName>(name: K, handler: Handler<K>): () => void {
    this.emitter.on(name, handler);
    return () => this.emitter.off(name, handler);
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/**
 * The event bus: Redis when configured (events, rate limits and presence shared by every process),
 * else in-process. The Redis client library is loaded only then: a tenth of a second of every start.
 */
export async function openBus(config: Config, logger: Logger): Promise<{ bus: EventBus; redis?: RedisBus['client'] }> {
  if (!config.redisUrl) return { bus: new InProcessBus() };
  const { RedisBus } = await import('./redisBus.js');
  const bus = await RedisBus.connect(config.redisUrl, logger, `${config.redisPrefix}:events`);
  return { bus, redis: bus.client };
}
