import type { Route } from '../route.js';
import { authRoutes } from './auth.js';
import { userRoutes } from './users.js';
import { docsRoutes } from './docs.js';

/** Every REST route under /api, in matching order. */
export const apiRoutes: Route[] = [...authRoutes, ...userRoutes, ...docsRoutes];
