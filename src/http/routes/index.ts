import type { Route } from '../route.js';
import { authRoutes } from './auth.js';
import { userRoutes } from './users.js';
import { postRoutes } from './posts.js';
import { commentRoutes } from './comments.js';
import { groupRoutes } from './groups.js';
import { messageRoutes } from './messages.js';
import { groupMessageRoutes } from './groupMessages.js';
import { callRoutes } from './calls.js';
import { eventRoutes } from './events.js';
import { docsRoutes } from './docs.js';

/** Every REST route under /api, in matching order. */
export const apiRoutes: Route[] = [...authRoutes, ...userRoutes, ...postRoutes, ...commentRoutes, ...groupRoutes, ...messageRoutes, ...groupMessageRoutes, ...callRoutes, ...eventRoutes, ...docsRoutes];
