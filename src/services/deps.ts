import type { Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBus } from '../events/bus.js';
import type { EventLog } from '../events/outbox.js';
import type { MediaStore } from '../media/store.js';

/** What every service is built with. */
export interface ServiceDeps {
  config: Config;
  sequelize: Sequelize;
  bus: EventBus;
  /** Durable events: logged per recipient in the writing transaction, published after it commits. */
  events: EventLog;
  media: MediaStore;
  logger: Logger;
}
