/** The terminal client's scriptable commands, one module per command group. */
import type { Command } from 'commander';
import * as auth from './auth.js';
import * as users from './users.js';
import * as posts from './posts.js';
import * as groups from './groups.js';
import * as messages from './messages.js';
import * as calls from './calls.js';
import * as call from './call.js';
import * as answer from './answer.js';
import * as chat from './chat.js';

export function registerClient(program: Command): void {
  for (const group of [auth, users, posts, groups, messages, calls, call, answer, chat]) group.register(program);
}
