/**
 * `jvai admin …`: migrations, users, demo data, recounts, backups and stats. Every action goes through
 * the same services as the API (so the same rules apply); heavy modules load only when a
 * command runs, which keeps `jvai --help` instant.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../../src/config.js';
import { flattenFieldErrors, ValidationError } from '../../src/errors.js';
import { say } from '../conventions.js';
import type { AdminContext } from '../../src/admin/context.js';
import type { User } from '../../src/models/index.js';
import type { AccountRow } from '../../src/db/rows.js';
import { bool } from '../../src/db/sql.js';
import { iso } from '../../src/presenters/context.js';

interface AdminFlags {
  dataDir?: string;
  config?: string;
}

/** A failure meant for the operator: printed as is, without a stack. */
class AdminFailure extends Error {}

function describe(err: unknown): string {
  if (err instanceof ValidationError) {
    return flattenFieldErrors(err.fields, '\n');
  }
  if (err instanceof Error) {
    // Database driver errors carry the useful text on `parent` (Sequelize wraps them).
    const parent = (err as Error & { parent?: Error }).parent;
    return parent?.message ?? err.message;
  }
  return String(err);
}

/** Wraps an action: any failure becomes a clear message on stderr and exit code 1. */
function guarded<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      const { ConfigError } = await import('../../src/config.js');
      say(err instanceof ConfigError ? err.message : describe(err));
      process.exitCode = 1;
    }
  };
}

/** The configuration, loaded (with its schema library) only when a command runs: `--help` needs neither. */
async function adminConfig(cmd: Command): Promise<Config> {
  const { loadConfig } = await import('../../src/config.js');
  const { dataDir, config } = cmd.optsWithGlobals<AdminFlags>();
  return loadConfig({ flags: { dataDir }, file: config });
}

async function withServices(cmd: Command, fn: (ctx: AdminContext) => Promise<void>): Promise<void> {
  const { openServices } = await import('../../src/admin/context.js');
  const ctx = await openServices(await adminConfig(cmd));
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

async function userNamed(ctx: AdminContext, username: string): Promise<User> {
  const user = await ctx.services.users.findByUsername(username);
  if (!user) throw new AdminFailure(`no user named "${username}"`);
  return user;
}

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

/** Reads a line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const { Writable } = await import('node:stream');
  let muted = false;
  const output = new Writable({
    write(chunk, encoding, done) {
      if (!muted) process.stderr.write(chunk, encoding);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    process.stderr.write(question);
    muted = true;
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

async function promptLine(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** The password for `users create`: typed twice at a terminal, or the first line of piped stdin. */
async function passwordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    const password = await promptHidden('Password: ');
    if ((await promptHidden('Password (again): ')) !== password) throw new AdminFailure("passwords didn't match");
    return password;
  }
  let input = '';
  for await (const chunk of process.stdin) input += String(chunk);
  const password = input.split(/\r?\n/)[0];
  if (!password) throw new AdminFailure('no password given: pass --password or pipe it on stdin');
  return password;
}

/** What an administrator sees of an account (more than the API shows other users). */
function adminView(user: AccountRow) {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    is_admin: bool(user.isAdmin),
    is_banned: bool(user.isBanned),
    is_online: bool(user.isOnline),
    last_seen: iso(user.lastSeen),
    date_joined: iso(user.createdAt) as string,
  };
}

const mediaFiles = (n: number): string => `${n} media file${n === 1 ? '' : 's'}`;

function printTable(headers: string[], rows: (string | number)[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  for (const row of [headers, ...rows]) console.log(row.map((cell, i) => String(cell).padEnd(widths[i])).join('  ').trimEnd());
}

function registerUsers(admin: Command): void {
  const users = admin.command('users').description('list and manage accounts');

  users
    .command('list')
    .description('list accounts, newest first')
    .option('--json', 'print JSON')
    .option('--search <text>', 'match username, first or last name')
    .option('--limit <n>', 'show at most this many', count)
    .option('--offset <n>', 'skip this many first', count, 0)
    .action(
      guarded(async (opts: { json?: boolean; search?: string; limit?: number; offset: number }, cmd: Command) => {
        await withServices(cmd, async ({ services }) => {
          const wanted = opts.limit === undefined ? Infinity : opts.offset + opts.limit;
          const found: AccountRow[] = [];
          let before: number | undefined;
          do {
            const page = await services.users.accounts({ limit: 200, before }, opts.search);
            found.push(...page.items);
            before = page.nextBefore ?? undefined;
          } while (before && found.length < wanted);
          const rows = found.slice(opts.offset, wanted).map(adminView);
          if (opts.json) return void console.log(JSON.stringify(rows, null, 2));
          const flags = (u: (typeof rows)[number]) => [u.is_admin && 'admin', u.is_banned && 'banned', u.is_online && 'online'].filter(Boolean).join(',') || '-';
          printTable(
            ['ID', 'USERNAME', 'EMAIL', 'NAME', 'FLAGS', 'JOINED'],
            rows.map((u) => [u.id, u.username, u.email, `${u.first_name} ${u.last_name}`.trim() || '-', flags(u), u.date_joined.slice(0, 10)]),
          );
          console.log(`${rows.length} user${rows.length === 1 ? '' : 's'}`);
        });
      }),
    );

  users
    .command('create <username> <email>')
    .description('create an account (password from --password, or read from stdin)')
    .option('--password <password>', 'the password (visible in your shell history: prefer stdin)')
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--admin', 'make the account an administrator')
    .action(
      guarded(async (username: string, email: string, opts: { password?: string; firstName?: string; lastName?: string; admin?: boolean }, cmd: Command) => {
        const { z } = await import('zod');
        const { parse, optionalText } = await import('../../src/validation.js');
        const { usernameField, emailField } = await import('../../src/schemas/accounts.js');
        // The registration endpoint's field rules, so an admin cannot create what a user could not.
        const input = parse(z.object({ username: usernameField, email: emailField, first_name: optionalText(150), last_name: optionalText(150) }), {
          username,
          email,
          first_name: opts.firstName,
          last_name: opts.lastName,
        });
        const password = opts.password ?? (await passwordFromStdin());
        await withServices(cmd, async ({ services }) => {
          const user = await services.users.create({ ...input, firstName: input.first_name, lastName: input.last_name, password, isAdmin: Boolean(opts.admin) });
          console.log(`Created ${opts.admin ? 'administrator' : 'user'} ${user.username} (id ${user.id}).`);
        });
      }),
    );

  users
    .command('ban <username>')
    .description('ban an account: it can no longer log in and its sessions end now')
    .action(
      guarded(async (username: string, _opts: object, cmd: Command) => {
        await withServices(cmd, async (ctx) => {
          await ctx.services.users.setBanned(await userNamed(ctx, username), true);
          console.log(`Banned ${username}; their sessions were ended.`);
        });
      }),
    );

  users
    .command('unban <username>')
    .description('lift a ban')
    .action(
      guarded(async (username: string, _opts: object, cmd: Command) => {
        await withServices(cmd, async (ctx) => {
          await ctx.services.users.setBanned(await userNamed(ctx, username), false);
          console.log(`Unbanned ${username}.`);
        });
      }),
    );

  users
    .command('delete <username>')
    .description('delete an account and everything it wrote')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      guarded(async (username: string, opts: { yes?: boolean }, cmd: Command) => {
        await withServices(cmd, async (ctx) => {
          const user = await userNamed(ctx, username);
          if (!opts.yes) {
            if (!process.stdin.isTTY) throw new AdminFailure('refusing to delete without confirmation: pass --yes');
            const answer = await promptLine(`Delete ${user.username} and all their posts, comments and messages? Type the username to confirm: `);
            if (answer.trim() !== user.username) throw new AdminFailure('not confirmed; nothing was deleted');
          }
          await ctx.services.users.delete(null, user.id);
          console.log(`Deleted ${user.username}.`);
        });
      }),
    );

  users
    .command('reset-password <username>')
    .description('set a new password (generated and printed unless --password) and end every session')
    .option('--password <password>', 'the new password')
    .action(
      guarded(async (username: string, opts: { password?: string }, cmd: Command) => {
        const { randomBytes } = await import('node:crypto');
        // 120 random bits, URL-safe: nothing to escape when it is pasted into a login form.
        const password = opts.password ?? randomBytes(15).toString('base64url');
        await withServices(cmd, async (ctx) => {
          await ctx.services.users.resetPassword(await userNamed(ctx, username), password);
          console.log(opts.password ? `Password of ${username} changed; their sessions were ended.` : `New password for ${username}: ${password}`);
        });
      }),
    );

  for (const [verb, isAdmin] of [
    ['promote', true],
    ['demote', false],
  ] as const) {
    users
      .command(`${verb} <username>`)
      .description(isAdmin ? 'make an account an administrator' : 'make an administrator an ordinary account again')
      .action(
        guarded(async (username: string, _opts: object, cmd: Command) => {
          await withServices(cmd, async (ctx) => {
            const user = await userNamed(ctx, username);
            if (user.isAdmin === isAdmin) return void console.log(`${user.username} is ${isAdmin ? 'already' : 'not'} an administrator; nothing changed.`);
            await ctx.services.users.setAdmin(user, isAdmin);
            console.log(`${user.username} is ${isAdmin ? 'now' : 'no longer'} an administrator.`);
          });
        }),
      );
  }
}

export function registerAdmin(program: Command): void {
  const admin = program
    .command('admin')
    .description('administer the server: migrations, users, demo data, recounts, backup and restore, stats, pruning')
    .option('--data-dir <dir>', 'data directory: SQLite file, media, secret (default ./data, or $JVAI_DATA_DIR)')
    .option('--config <file>', 'JSON config file (default config/<NODE_ENV>.json when present)');

  admin
    .command('migrate')
    .description('apply pending database migrations')
    .action(
      guarded(async (_opts: object, cmd: Command) => {
        const config = await adminConfig(cmd);
        const { adminLogger } = await import('../../src/admin/context.js');
        const { closeDatabase, connectDatabase } = await import('../../src/db/connection.js');
        const { migrate } = await import('../../src/db/migrator.js');
        const sequelize = await connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger: adminLogger() });
        try {
          const applied = await migrate(sequelize);
          console.log(applied.length ? `Applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join('\n')}` : 'Database is up to date.');
        } finally {
          await closeDatabase(sequelize);
        }
      }),
    );

  admin
    .command('seed')
    .description('fill the database with demo users, follows, posts, likes, comments and messages')
    .option('--users <n>', 'users', count, 200)
    .option('--posts <n>', 'posts', count, 2000)
    .option('--likes <n>', 'post likes', count, 8000)
    .option('--comments <n>', 'comments', count, 3000)
    .option('--follows <n>', 'follows', count, 2000)
    .option('--messages <n>', 'direct messages', count, 2000)
    .action(
      guarded(async (opts: { users: number; posts: number; likes: number; comments: number; follows: number; messages: number }, cmd: Command) => {
        const { seedDemoData } = await import('../../src/admin/seed.js');
        const { default: progress } = await import('cli-progress');
        await withServices(cmd, async ({ sequelize }) => {
          const bar = new progress.SingleBar({ format: '{stage} [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true }, progress.Presets.shades_classic);
          let current: string | undefined;
          let result;
          try {
            result = await seedDemoData(sequelize, opts, {
              onProgress(stage, done, total) {
                if (stage !== current) {
                  if (current) bar.stop();
                  current = stage;
                  bar.start(total, done, { stage: stage.padEnd(8) });
                } else bar.update(done);
              },
            });
          } finally {
            bar.stop();
          }
          const c = result.counts;
          console.log(`Created ${c.users} users, ${c.follows} follows, ${c.posts} posts, ${c.likes} likes, ${c.comments} comments, ${c.messages} messages.`);
          if (result.firstUsername) {
            const range = result.firstUsername === result.lastUsername ? result.firstUsername : `${result.firstUsername} … ${result.lastUsername}`;
            console.log(`Log in as ${result.firstUsername} / ${result.password} (every demo user, ${range}, has that password).`);
          }
        });
      }),
    );

  registerUsers(admin);

  admin
    .command('recount')
    .description('recompute stored counters, home timelines and conversation summaries from the source tables')
    .action(
      guarded(async (_opts: object, cmd: Command) => {
        const { recount, describeRecount } = await import('../../src/admin/recount.js');
        await withServices(cmd, async ({ sequelize }) => console.log(describeRecount(await recount(sequelize))));
      }),
    );

  admin
    .command('backup <target>')
    .description('back up the database (a consistent SQLite snapshot, also while the server runs), media and generated JWT secret into a directory, or a .tar/.tar.gz file')
    .action(
      guarded(async (target: string, _opts: object, cmd: Command) => {
        const { backup } = await import('../../src/admin/backup.js');
        const done = await backup(await adminConfig(cmd), target);
        const m = done.manifest;
        const parts = [m.database && 'the database', mediaFiles(m.mediaFiles), m.secret && 'the JWT secret'].filter(Boolean);
        console.log(`Backed up ${parts.join(', ')} to ${done.target}.`);
        for (const note of done.notes) say(`note: ${note}`);
      }),
    );

  admin
    .command('restore <source>')
    .description('restore a backup (directory or tar file) into the data dir; --force replaces what a non-empty data dir holds')
    .option('--force', 'replace the database, media and secret of a data dir that is not empty (stop its server first)')
    .action(
      guarded(async (source: string, opts: { force?: boolean }, cmd: Command) => {
        const { restore } = await import('../../src/admin/backup.js');
        const { readConfig } = await import('../../src/config.js');
        const { dataDir, config } = cmd.optsWithGlobals<AdminFlags>();
        // No JWT secret may be generated into the data dir: the backup brings its own.
        const done = await restore(readConfig({ flags: { dataDir }, file: config }), source, { force: opts.force });
        const m = done.manifest;
        const parts = [m.database && 'the database', mediaFiles(m.mediaFiles), m.secret && 'the JWT secret'].filter(Boolean);
        console.log(`Restored ${parts.join(', ')} from the backup of ${m.createdAt} (jvai ${m.jvai}) into ${done.dataDir}.`);
        for (const note of done.notes) say(`note: ${note}`);
      }),
    );

  admin
    .command('prune')
    .description('delete expired and revoked sessions, and event-log rows past their retention')
    .action(
      guarded(async (_opts: object, cmd: Command) => {
        await withServices(cmd, async ({ services, sequelize }) => {
          const { QueryTypes } = await import('sequelize');
          const countEvents = async () => Number((await sequelize.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM user_events', { type: QueryTypes.SELECT }))[0].n);
          const sessions = await services.tokens.prune();
          const before = await countEvents();
          await services.deps.events.prune();
          const events = before - (await countEvents());
          console.log(`Pruned ${sessions} session${sessions === 1 ? '' : 's'} and ${events} event-log row${events === 1 ? '' : 's'}.`);
        });
      }),
    );

  admin
    .command('stats')
    .description('count users, online users, posts, comments, groups, messages and calls')
    .option('--json', 'print JSON')
    .action(
      guarded(async (opts: { json?: boolean }, cmd: Command) => {
        const { collectStats } = await import('../../src/admin/stats.js');
        await withServices(cmd, async () => {
          const stats = await collectStats();
          if (opts.json) return void console.log(JSON.stringify(stats, null, 2));
          printTable(['WHAT', 'COUNT'], Object.entries(stats).map(([name, n]) => [name.replace('_', ' '), n]));
        });
      }),
    );
}
