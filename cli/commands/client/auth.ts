/** `jvai register|login|logout|whoami`: the session of the terminal client. */
import type { Command } from 'commander';
import { action, authed, command } from './action.js';
import type { ClientContext } from './context.js';
import type { JvaiClient } from '../../client/api.js';
import type { AuthResponse } from '../../client/types.js';

const SERVER_HELP = 'server URL (default $JVAI_SERVER, else the last server you logged in to, else http://localhost:8000)';

/** Stores the new session and reports it; with --json prints the user (the tokens stay in the session file). */
async function startSession(ctx: ClientContext, api: JvaiClient, res: AuthResponse, verb: string): Promise<void> {
  await ctx.store.save({ server: api.server, username: res.user.username, access: res.access, refresh: res.refresh });
  await ctx.store.rememberServer(api.server);
  ctx.print(res.user, () => `${verb} ${api.server} as ${res.user.username}.`);
}

export function register(program: Command): void {
  command(program, 'register', 'create an account and log in (the password is prompted, or read from stdin)')
    .option('--server <url>', SERVER_HELP)
    .option('--username <name>', 'username (prompted when missing)')
    .option('--email <email>', 'email address (prompted when missing)')
    .option('--first-name <name>', 'first name')
    .option('--last-name <name>', 'last name')
    .action(
      action(async (ctx) => {
        const o = ctx.opts<{ server?: string; username?: string; email?: string; firstName?: string; lastName?: string }>();
        const api = await ctx.connect(o.server);
        const username = o.username ?? (await ctx.prompt.ask('Username: '));
        const email = o.email ?? (await ctx.prompt.ask('Email: '));
        const password = await ctx.prompt.askSecret('Password: ');
        if (ctx.prompt.interactive() && (await ctx.prompt.askSecret('Password (again): ')) !== password) throw new Error('the passwords do not match');
        const res = await api.register({ username, email, password, first_name: o.firstName, last_name: o.lastName });
        await startSession(ctx, api, res, 'Registered on');
      }),
    );

  command(program, 'login', 'log in (the password is prompted, or read from stdin)')
    .option('--server <url>', SERVER_HELP)
    .option('--username <name>', 'username or email (prompted when missing)')
    .action(
      action(async (ctx) => {
        const o = ctx.opts<{ server?: string; username?: string }>();
        const api = await ctx.connect(o.server);
        const username = o.username ?? (await ctx.prompt.ask('Username: '));
        const password = await ctx.prompt.askSecret('Password: ');
        await startSession(ctx, api, await api.login(username, password), 'Logged in to');
      }),
    );

  command(program, 'logout', 'log out: revoke the session on the server and forget it here')
    .action(
      authed(async (ctx) => {
        const { SessionExpiredError } = await import('../../client/api.js');
        const server = ctx.session.server;
        try {
          ctx.print(await ctx.api.logout(), () => `Logged out of ${server}.`);
        } catch (err) {
          // A session the server already ended needs no revoking; anything else is reported.
          if (!(err instanceof SessionExpiredError)) throw err;
          ctx.print(null, () => `Logged out (the session on ${server} had already ended).`);
        } finally {
          // Forget the tokens even when the server could not be told: they must not linger on disk.
          await ctx.store.clear();
        }
      }),
    );

  command(program, 'whoami', 'show who you are logged in as, and where')
    .action(
      authed(async (ctx) => {
        const me = await ctx.api.me();
        ctx.print(me, () => `${ctx.fmt.profile(me, ctx.me)}\n  server: ${ctx.session.server}`);
      }),
    );
}
