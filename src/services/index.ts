import type { ServiceDeps } from './deps.js';
import { TokenService } from './tokens.js';
import { UserService } from './users.js';
import { CommentService } from './comments.js';
import { PostService } from './posts.js';
import { GroupService } from './groups.js';
import { GroupMessageService } from './groupMessages.js';
import { DirectMessageService } from './messages.js';
import { CallService } from './calls.js';
import { EventLog } from '../events/outbox.js';
import { sqlOf } from '../db/connection.js';

/** Builds every domain service once; REST routes, realtime handlers and `jvai admin` share them. */
export function createServices(base: Omit<ServiceDeps, 'events'>) {
  const deps: ServiceDeps = { ...base, events: new EventLog(sqlOf(base.sequelize), base.bus, base.logger) };
  const tokens = new TokenService(deps.config, deps.sequelize, deps.bus);
  const users = new UserService(deps, tokens);
  const comments = new CommentService(deps.sequelize);
  const posts = new PostService(deps, comments);
  const groups = new GroupService(deps, users);
  const groupMessages = new GroupMessageService(deps, groups);
  const messages = new DirectMessageService(deps);
  const calls = new CallService(deps);
  // Cached sessions hold the user as it was: any process's change empties them (the bus reaches every process).
  deps.bus.subscribe('user.sessions_revoked', (e) => tokens.forgetSessions(e.sessionIds));
  deps.bus.subscribe('user.updated', (e) => tokens.forgetUser(e.userId));
  return { deps, tokens, users, posts, comments, groups, groupMessages, messages, calls };
}

export type Services = ReturnType<typeof createServices>;
