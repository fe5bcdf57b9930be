/**
 * App factory: builds the Koa app and services from a connected database and a bus.
 * Listening is the caller's job (the serve command, or a test on port 0).
 */
import Koa from 'koa';
import { Router } from '@koa/router';
import { koaBody } from 'koa-body';
import type { Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import type { EventBus } from './events/bus.js';
import { MediaStore } from './media/store.js';
import { createServices, type Services } from './services/index.js';
import type { AppCustom, AppState } from './http/context.js';
import { errorHandler } from './http/middleware/errors.js';
import { requestLog } from './http/middleware/requestLog.js';
import { authenticate } from './http/middleware/authenticate.js';
import { createAuthLimiter } from './http/middleware/rateLimit.js';
import { SendLimiter } from './services/sendLimit.js';
import { mountRoutes } from './http/route.js';
import { apiRoutes } from './http/routes/index.js';
import { serveMedia } from './http/media.js';
import { removeUploadsAfterwards } from './http/middleware/uploads.js';
import { conditionalGet } from './http/middleware/conditionalGet.js';

export interface AppOptions {
  config: Config;
  sequelize: Sequelize;
  bus: EventBus;
  logger: Logger;
  redis?: Redis;
}

export interface JvaiApp {
  koa: Koa<AppState, AppCustom>;
  router: Router<AppState, AppCustom>;
  services: Services;
  /** Shared with the realtime transports: one budget per user for REST and sockets. */
  sendLimiter: SendLimiter;
}

export function createApp({ config, sequelize, bus, logger, redis }: AppOptions): JvaiApp {
  const media = new MediaStore(config.dataDir, config.mediaMaxBytes, config.mediaMaxPixels);
  const services = createServices({ config, sequelize, bus, media, logger });
  const koa = new Koa<AppState, AppCustom>();
  koa.proxy = true;
  koa.context.services = services;
  koa.context.config = config;
  koa.context.logger = logger;
  koa.context.authLimiter = createAuthLimiter(config, redis);
  const sendLimiter = new SendLimiter(config, redis);
  koa.context.sendLimiter = sendLimiter;
  // Errors are rendered by errorHandler; koa's default handler would log them again.
  koa.silent = true;

  const router = new Router<AppState, AppCustom>({ prefix: '/api', exclusive: 'specificity' });
  mountRoutes(router, apiRoutes, authenticate);

  koa.use(errorHandler(logger));
  koa.use(requestLog(logger));
  koa.use(serveMedia(media));
  koa.use(removeUploadsAfterwards);
  koa.use(
    koaBody({
      multipart: true,
      jsonLimit: '1mb',
      formLimit: '1mb',
      formidable: { maxFileSize: config.mediaMaxBytes, maxFiles: 4, maxFieldsSize: 1024 * 1024, keepExtensions: false },
    }),
  );
  koa.use(conditionalGet);
  koa.use(router.routes());
  koa.use(router.allowedMethods());
  return { koa, router, services, sendLimiter };
}
