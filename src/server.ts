/**
 * Boots a whole server: database (migrated), event bus, app, HTTP server.
 * Used by `jvai serve` and by the tests; neither has to know the wiring.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { openDatabase } from './db/migrator.js';
import { openBus, type EventBus } from './events/bus.js';
import type { RedisBus } from './events/redisBus.js';
import { createApp, type JvaiApp } from './app.js';
import { createLogger } from './logger.js';
import { startRealtime } from './realtime/index.js';
import { PresenceTracker, RedisHoldRegistry } from './realtime/presence.js';
import { RedisRoomFlags, RoomPresence } from './realtime/roomPresence.js';
import type { WsTransportOptions } from './realtime/ws.js';
import { RingTimer } from './services/ringTimer.js';
import { every } from './periodic.js';
import { closeDatabase } from './db/connection.js';

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

/**
 * Boots everything; `realtimeOptions` tunes the WebSocket transport's limits (the benchmark
 * lifts the per-socket frame rate).
 */
export async function startServer(config: Config, logger: Logger = createLogger(config), realtimeOptions: Partial<WsTransportOptions> = {}): Promise<RunningServer> {
  const sequelize = await openDatabase(config, logger);
  let opened: { bus: EventBus; redis?: RedisBus['client'] };
  try {
    opened = await openBus(config, logger);
  } catch (err) {
    await closeDatabase(sequelize);
    throw err;
  }
  const { bus, redis } = opened;
  const app = createApp({ config, sequelize, bus, logger, redis });
  const registry = redis && new RedisHoldRegistry(redis, logger, { prefix: config.redisPrefix, ttlMs: config.presenceTtlSeconds * 1000 });
  const presence = new PresenceTracker(app.services.users, logger, registry);
  const rooms = new RoomPresence({
    bus,
    users: app.services.users,
    logger,
    ...(redis && {
      registry: new RedisHoldRegistry<string>(redis, logger, { prefix: config.redisPrefix, ttlMs: config.presenceTtlSeconds * 1000, namespace: 'rooms', parse: String }),
      flags: new RedisRoomFlags(redis, config.redisPrefix),
    }),
  });
  // Before accepting connections: flags offline whoever a dead process (or a previous run) left online, and out of group rooms.
  await presence.start();
  await rooms.start();
  const ringTimer = new RingTimer(app.services.calls, bus, logger);
  await ringTimer.start();
  const sessionPruner = every(
    config.sessionPruneIntervalSeconds * 1000,
    () => app.services.tokens.prune(),
    (err) => logger.error({ err }, 'session pruning failed'),
  );
  const headersTimeout = config.headersTimeoutSeconds * 1000;
  const server = http.createServer(
    {
      // A client that trickles its headers or body (or sends less than its Content-Length) gets a 408 and the connection closes.
      requestTimeout: config.requestTimeoutSeconds * 1000,
      headersTimeout,
      // Node checks those timeouts only this often (30 s by default).
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, headersTimeout / 4)),
    },
    app.koa.callback(),
  );
  const realtime = await startRealtime(server, { services: app.services, bus, logger, presence, rooms, sendLimiter: app.sendLimiter }, realtimeOptions);
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
      await sessionPruner.stop();
      await bus.close();
      await closeDatabase(sequelize);
    })());
  return { http: server, app, sequelize, bus, logger, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, close };
}
