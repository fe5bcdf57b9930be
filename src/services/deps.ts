import type { Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBus } from '../events/bus.js';
import type { MediaStore } from '../media/store.js';

/** What every service is built with. */
export interface ServiceDeps {
  config: Config;
  sequelize: Sequelize;
  bus: EventBus;
  media: MediaStore;
  logger: Logger;
}
