import type { RouterContext, RouterMiddleware } from '@koa/router';
import type { User } from '../models/index.js';
import type { Services } from '../services/index.js';
import type { Config } from '../config.js';
import type { Logger } from 'pino';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { SendLimiter } from '../services/sendLimit.js';
import type { LoginThrottle } from './middleware/rateLimit.js';
import type { PostTexts } from '../presenters/postTexts.js';
import type { PresentedPages } from './presentedPages.js';
import type { RowTexts } from '../presenters/rowTexts.js';
import type { DirectMessageRow, GroupMessageRow } from '../db/rows.js';

export interface AppState {
  /** The authenticated user, set by the auth middleware on protected routes. */
  user?: User;
  /** Session id from the access token (for logout without a refresh token). */
  sessionId?: string;
}

export interface AppCustom {
  services: Services;
  config: Config;
  logger: Logger;
  authLimiter: RateLimiterAbstract;
  sendLimiter: SendLimiter;
  loginThrottle: LoginThrottle;
  postTexts: PostTexts;
  presentedPages: PresentedPages;
  directMessageTexts: RowTexts<DirectMessageRow>;
  groupMessageTexts: RowTexts<GroupMessageRow>;
}

export type ApiContext = RouterContext<AppState, AppCustom>;
export type ApiMiddleware = RouterMiddleware<AppState, AppCustom>;
