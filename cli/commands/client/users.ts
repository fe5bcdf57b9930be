/** `jvai users|user|follow|unfollow|followers|following`: people and who follows whom. */
import type { Command } from 'commander';
import { authed, command, withLimit } from './action.js';
import type { SessionContext } from './context.js';

const USER_ARG = 'a username or a numeric id (@name for a numeric username)';

/** `followers` / `following` share everything but the list they read. */
function relationList(program: Command, name: 'followers' | 'following', description: string): void {
  withLimit(command(program, name, description).argument('[user]', `${USER_ARG}; default you`)).action(
    authed(async (ctx: SessionContext, who?: string) => {
      const id = who ? await ctx.userId(who) : ctx.me;
      const list = await ctx.api[name](id, ctx.opts<{ limit?: number }>().limit);
      ctx.print(list, () => ctx.fmt.users(list));
    }),
  );
}

export function register(program: Command): void {
  withLimit(command(program, 'users', 'list users, newest first').option('--search <text>', 'match username, first or last name')).action(
    authed(async (ctx) => {
      const { search, limit } = ctx.opts<{ search?: string; limit?: number }>();
      const list = await ctx.api.users({ search, limit });
      ctx.print(list, () => ctx.fmt.users(list));
    }),
  );

  command(program, 'user', "show a user's profile")
    .argument('<user>', USER_ARG)
    .action(
      authed(async (ctx, who: string) => {
        const user = await ctx.api.user(await ctx.userId(who));
        ctx.print(user, () => ctx.fmt.profile(user, ctx.me));
      }),
    );

  for (const verb of ['follow', 'unfollow'] as const) {
    command(program, verb, verb === 'follow' ? 'follow a user' : 'stop following a user')
      .argument('<user>', USER_ARG)
      .action(
        authed(async (ctx, who: string) => {
          const res = await ctx.api[verb](await ctx.userId(who));
          ctx.print(res, () => res.message);
        }),
      );
  }

  relationList(program, 'followers', "list a user's followers");
  relationList(program, 'following', 'list the users a user follows');
}
