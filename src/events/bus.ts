import { EventEmitter } from 'node:events';
import type { DomainEventName, DomainEvents } from './types.js';

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
