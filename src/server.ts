/**
 * Boots a whole server: database (migrated), event bus, app, HTTP server.
 * Used by `jvai serve` and by the tests; neither has to know the wiring.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { connectDatabase } from './db/connection.js';
import { migrate } from './db/migrator.js';
import { InProcessBus, type EventBus } from './events/bus.js';
import { createApp, type JvaiApp } from './app.js';
import { createLogger } from './logger.js';
import { startRealtime } from './realtime/index.js';
import { RingTimer } from './services/ringTimer.js';

export interface RunningServer {
  http: http.Server;
  app: JvaiApp;
  sequelize: Sequelize;
  bus: EventBus;
  logger: Logger;
  /** Base URL once listening, e.g. http://127.0.0.1:8000 */
  url: string;
  close(): Promise<void>;
}

/** Opens the database and applies migrations: shared by `serve` and `admin`. */
export async function openDatabase(config: Config, logger: Logger): Promise<Sequelize> {
  const sequelize = await connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  const applied = await migrate(sequelize);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  return sequelize;
}

export async function startServer(config: Config, logger: Logger = createLogger(config)): Promise<RunningServer> {
  const sequelize = await openDatabase(config, logger);
  const bus: EventBus = new InProcessBus();
  const app = createApp({ config, sequelize, bus, logger });
  const ringTimer = new RingTimer(app.services.calls, bus, logger);
  await ringTimer.start();
  const server = http.createServer(app.koa.callback());
  const realtime = startRealtime(server, { services: app.services, bus, logger });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Upgraded sockets would hold server.close() open, and their offline writes need the database.
      await realtime.close();
      // Stop accepting, let in-flight requests finish (bounded), then release the database.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      await closed;
      clearTimeout(force);
      await ringTimer.stop();
      await bus.close();
      await sequelize.close();
    })());
  return { http: server, app, sequelize, bus, logger, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close };
}
