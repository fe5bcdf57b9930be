/**
 * Headless wiring for `jvai admin` (and the bench): the same database, services and rules
 * as the API, without an HTTP server.
 */
import { pino, type Logger } from 'pino';
import type { Sequelize } from 'sequelize';
import type { Config } from '../config.js';
import { MediaStore } from '../media/store.js';
import { openDatabase } from '../db/migrator.js';
import { openBus, type EventBus } from '../events/bus.js';
import { createServices, type Services } from '../services/index.js';
import { closeDatabase } from '../db/connection.js';

export interface AdminContext {
  config: Config;
  sequelize: Sequelize;
  bus: EventBus;
  media: MediaStore;
  logger: Logger;
  services: Services;
  close(): Promise<void>;
}

/** Logs go to stderr: stdout carries the command's output (tables, --json). */
export function adminLogger(level: Config['logLevel'] = 'warn'): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination(2));
}

/** Opens and migrates the database, then builds the services and bus exactly as the server does. */
export async function openServices(config: Config, logger: Logger = adminLogger()): Promise<AdminContext> {
  const sequelize = await openDatabase(config, logger);
  // With Redis, events such as user.sessions_revoked (ban, reset) reach the running servers' sockets.
  let bus: EventBus;
  try {
    ({ bus } = await openBus(config, logger));
  } catch (err) {
    await closeDatabase(sequelize);
    throw err;
  }
  const media = new MediaStore(config.dataDir, config.mediaMaxBytes, config.mediaMaxPixels);
  const services = createServices({ config, sequelize, bus, media, logger });
  return {
    config,
    sequelize,
    bus,
    media,
    logger,
    services,
    async close() {
      await bus.close();
      await closeDatabase(sequelize);
    },
  };
}
