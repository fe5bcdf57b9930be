/**
 * App factory: builds the Koa app and services from a connected database and a bus.
 * Listening is the caller's job (the serve command, or a test on port 0).
 */
import Koa from 'koa';
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
import { LoginThrottle, createAuthLimiter } from './http/middleware/rateLimit.js';
import { SendLimiter } from './services/sendLimit.js';
import { forwarded } from './http/middleware/forwarded.js';
import { corsFor, securityHeaders } from './http/middleware/security.js';
import { ApiRouter } from './http/apiRouter.js';
import { apiRoutes } from './http/routes/index.js';
import { serveMedia } from './http/media.js';
import { conditionalGet } from './http/middleware/conditionalGet.js';
import { PostTexts } from './presenters/postTexts.js';
import { PresentedPages } from './http/presentedPages.js';
import { directMessageTexts, groupMessageTexts } from './presenters/rowTexts.js';
import { parseBody } from './http/middleware/body.js';

export interface AppOptions {
  config: Config;
  sequelize: Sequelize;
  bus: EventBus;
  logger: Logger;
  redis?: Redis;
}

export interface JvaiApp {
  koa: Koa<AppState, AppCustom>;
  router: ApiRouter;
  services: Services;
  /** Shared with the realtime transports: one budget per user for REST and sockets. */
  sendLimiter: SendLimiter;
  /** Rendered posts, shared by every request of this process. */
  postTexts: PostTexts;
}

export function createApp({ config, sequelize, bus, logger, redis }: AppOptions): JvaiApp {
  const media = new MediaStore(config.dataDir, config.mediaMaxBytes, config.mediaMaxPixels);
  const services = createServices({ config, sequelize, bus, media, logger });
  const koa = new Koa<AppState, AppCustom>();
  // Forwarded headers are honoured per config.trustProxy (forwarded()), never blindly.
  koa.proxy = false;
  koa.context.services = services;
  koa.context.config = config;
  koa.context.logger = logger;
  koa.context.authLimiter = createAuthLimiter(config, redis);
  const sendLimiter = new SendLimiter(config, redis);
  koa.context.sendLimiter = sendLimiter;
  koa.context.loginThrottle = new LoginThrottle(config, redis);
  const postTexts = new PostTexts();
  koa.context.postTexts = postTexts;
  // Renderings show authors' names and pictures (of posts and of their comments): any process's profile change empties them.
  bus.subscribe('user.updated', () => postTexts.clear());
  koa.context.presentedPages = new PresentedPages();
  koa.context.directMessageTexts = directMessageTexts();
  koa.context.groupMessageTexts = groupMessageTexts();
  // Errors are rendered by errorHandler; koa's default handler would log them again.
  koa.silent = true;

  const router = new ApiRouter(apiRoutes, authenticate);

  const proxied = forwarded(config.trustProxy);
  if (proxied) koa.use(proxied);
  // Outside the error handler, so it logs the status actually sent.
  if (logger.isLevelEnabled('info')) koa.use(requestLog(logger));
  koa.use(errorHandler(logger));
  koa.use(securityHeaders(config));
  const cors = corsFor(config);
  if (cors) koa.use(cors);
  koa.use(serveMedia(media));
  koa.use(parseBody(config));
  koa.use(conditionalGet);
  koa.use(router.middleware());
  return { koa, router, services, sendLimiter, postTexts };
}
