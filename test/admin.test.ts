/**
 * `jvai admin` as an operator runs it: the compiled CLI in a child process, against the
 * same data dir / database as a real server, whose API must see every change.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { loadConfig } from '../src/config.js';
import { startServer } from '../src/server.js';
import { createLogger } from '../src/logger.js';
import { Api } from './helpers/api.js';
import { PG_URL, createPgDatabase } from './helpers/server.js';
import { Op, QueryTypes } from 'sequelize';
import { Session } from '../src/models/index.js';
import { runJvai, type CliRun } from './helpers/serve.js';
import { sqlOf } from '../src/db/connection.js';
import { num } from '../src/db/sql.js';


// Every step starts a fresh CLI process (≈ 1 s each, more on a busy machine): more time than a server test.
t.setTimeout(420_000);

t.test('jvai admin', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-admin-'));
  const db = PG_URL ? await createPgDatabase(PG_URL) : null;
  t.teardown(async () => {
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs the CLI; stdin gets `input` and is then closed, as a pipe would be. */
  const jvai = (args: string[], input = ''): Promise<CliRun> => {
    const env: NodeJS.ProcessEnv = { ...process.env, JVAI_DATA_DIR: dataDir };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JVAI_CONFIG']) delete env[name];
    if (db) env.DATABASE_URL = db.url;
    // cwd in the data dir: no config/<env>.json of the repo gets picked up.
    return runJvai(['admin', ...args], { env, cwd: dataDir, input });
  };

  /** A failed command: non-zero exit, the expected message, never a stack trace. */
  const fails = async (t: Test, args: string[], message: RegExp, input?: string) => {
    const res = await jvai(args, input);
    t.not(res.code, 0, `${args.join(' ')} exits non-zero`);
    t.match(res.stderr, message);
    t.notMatch(res.stderr, /\n\s+at /, 'no stack trace');
    return res;
  };

  const ok = async (t: Test, args: string[], input?: string) => {
    const res = await jvai(args, input);
    t.equal(res.code, 0, `${args.join(' ')} succeeds${res.code ? `: ${res.stderr}` : ''}`);
    return res;
  };

  const listed = async (t: Test, ...args: string[]) => JSON.parse((await ok(t, ['users', 'list', '--json', ...args])).stdout) as { username: string; is_admin: boolean; is_banned: boolean; email: string }[];

  // Awaited: the server below would otherwise migrate the database first.
  await t.test('migrate creates the schema, then has nothing to do', async (t) => {
    t.match((await ok(t, ['migrate'])).stdout, /Applied \d+ migration\(s\):\n\s+\d{14}-initial-schema/);
    t.match((await ok(t, ['migrate'])).stdout, 'Database is up to date.');
  });

  // The server shares the data dir (and its JWT secret) or the PostgreSQL database with the CLI.
  const config = loadConfig({
    env: {},
    file: false,
    flags: { host: '127.0.0.1', port: 0, dataDir, databaseUrl: db?.url, logLevel: 'silent', authRateLimit: 10_000 },
  });
  const server = await startServer(config, createLogger(config));
  t.teardown(() => server.close());
  const api = new Api(server.url);
  const login = (username: string, password: string) => api.post('/api/users/login/', { username, password });

  t.test('users create: password from stdin or --password; the account logs in over the API', async (t) => {
    const created = await ok(t, ['users', 'create', 'alice', 'Alice@Example.com', '--first-name', 'Alice'], 'Wonder-Land-42\n');
    t.match(created.stdout, /Created user alice \(id \d+\)/);
    const res = await login('alice', 'Wonder-Land-42');
    t.equal(res.status, 200);
    t.match(res.body.user, { username: 'alice', email: 'alice@example.com', first_name: 'Alice' });

    t.match((await ok(t, ['users', 'create', 'root', 'root@example.com', '--password', 'Adm1n-Passw0rd', '--admin'])).stdout, /Created administrator root/);
    t.equal((await login('root', 'Adm1n-Passw0rd')).status, 200);
  });

  t.test('users create refuses what registration refuses', async (t) => {
    await fails(t, ['users', 'create', 'ALICE', 'other@example.com', '--password', 'Wonder-Land-42'], /username: A user with that username already exists\./);
    await fails(t, ['users', 'create', 'carol', 'alice@example.com', '--password', 'Wonder-Land-42'], /email: A user with that email already exists\./);
    const weak = await fails(t, ['users', 'create', 'carol', 'carol@example.com', '--password', '12345678'], /This password is too common\./);
    t.match(weak.stderr, 'This password is entirely numeric.');
    await fails(t, ['users', 'create', 'carol', 'carol@example.com'], /no password given/);
    await fails(t, ['users', 'create', 'bad name', 'not-an-email', '--password', 'Wonder-Land-42'], /username: Enter a valid username[\s\S]*email: Enter a valid email address\./);
    t.notOk((await listed(t)).some((u) => u.username === 'carol'), 'nothing was written');
  });

  t.test('users list: table, --json, --search', async (t) => {
    const table = (await ok(t, ['users', 'list'])).stdout;
    t.match(table, /^ID\s+USERNAME\s+EMAIL/);
    t.match(table, /root\s+root@example\.com\s+-\s+admin/);
    t.match(table, /2 users/);
    const all = await listed(t);
    t.same(all.map((u) => u.username), ['root', 'alice'], 'newest first');
    t.match(all[1], { username: 'alice', email: 'alice@example.com', is_admin: false, is_banned: false, is_online: false, date_joined: String });
    t.same((await listed(t, '--search', 'ALI')).map((u) => u.username), ['alice']);
    t.same(await listed(t, '--search', 'nobody'), []);
    t.same((await listed(t, '--limit', '1')).map((u) => u.username), ['root']);
    t.same((await listed(t, '--limit', '1', '--offset', '1')).map((u) => u.username), ['alice']);
    t.same((await listed(t, '--offset', '1')).map((u) => u.username), ['alice'], '--offset alone skips');
    t.same(await listed(t, '--offset', '2'), []);
    t.match((await ok(t, ['users', 'list', '--limit', '1'])).stdout, /\n1 user\n$/);
  });

  t.test('ban refuses logins and revokes existing tokens; unban restores logins', async (t) => {
    const session = (await login('alice', 'Wonder-Land-42')).body;
    t.equal((await api.as(session.access).get('/api/users/me/')).status, 200);
    t.match((await ok(t, ['users', 'ban', 'alice'])).stdout, /Banned alice/);
    // jvai admin is another process, with no shared bus here: the server learns of the revocation
    // from the database within its poll interval (a quarter second).
    const bannedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - bannedAt < 2_000) {
      status = (await api.as(session.access).get('/api/users/me/')).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 25));
    }
    t.equal(status, 401, `access token revoked (${Date.now() - bannedAt} ms after the command finished)`);
    t.equal((await api.post('/api/token/refresh/', { refresh: session.refresh })).status, 401, 'refresh token revoked');
    const refused = await login('alice', 'Wonder-Land-42');
    t.equal(refused.status, 400);
    t.same(refused.body, { non_field_errors: ['Unable to log in with provided credentials.'] });
    t.equal((await listed(t, '--search', 'alice'))[0].is_banned, true);

    t.match((await ok(t, ['users', 'unban', 'alice'])).stdout, /Unbanned alice/);
    t.equal((await login('alice', 'Wonder-Land-42')).status, 200);
    t.equal((await api.as(session.access).get('/api/users/me/')).status, 401, 'old sessions stay revoked');
  });

  t.test('reset-password: generated or given, rules enforced, sessions ended', async (t) => {
    const session = (await login('alice', 'Wonder-Land-42')).body;
    const generated = await ok(t, ['users', 'reset-password', 'alice']);
    const password = /New password for alice: (\S+)/.exec(generated.stdout)?.[1];
    t.ok(password && password.length >= 20, 'a long password is printed');
    t.equal((await api.as(session.access).get('/api/users/me/')).status, 401, 'sessions ended');
    t.equal((await login('alice', 'Wonder-Land-42')).status, 400, 'old password refused');
    t.equal((await login('alice', password!)).status, 200, 'new password works');

    await fails(t, ['users', 'reset-password', 'alice', '--password', 'alice123'], /password: The password is too similar to the username\./);
    t.equal((await login('alice', password!)).status, 200, 'a refused reset changes nothing');
    const given = await ok(t, ['users', 'reset-password', 'alice', '--password', 'Looking-Glass-7']);
    t.notMatch(given.stdout, 'Looking-Glass-7', 'a given password is not echoed');
    t.equal((await login('alice', 'Looking-Glass-7')).status, 200);
  });

  t.test('promote makes an administrator, demote undoes it; each says when there is nothing to do', async (t) => {
    t.match((await ok(t, ['users', 'promote', 'alice'])).stdout, /alice is now an administrator/);
    t.equal((await listed(t, '--search', 'alice'))[0].is_admin, true);
    t.equal((await ok(t, ['users', 'promote', 'alice'])).stdout, 'alice is already an administrator; nothing changed.\n');
    t.equal((await ok(t, ['users', 'demote', 'alice'])).stdout, 'alice is no longer an administrator.\n');
    t.equal((await listed(t, '--search', 'alice'))[0].is_admin, false);
    t.equal((await ok(t, ['users', 'demote', 'alice'])).stdout, 'alice is not an administrator; nothing changed.\n');
    t.match((await ok(t, ['users', 'promote', 'alice'])).stdout, /alice is now an administrator/);
  });

  t.test('unknown users are errors', async (t) => {
    for (const action of ['ban', 'reset-password', 'demote']) await fails(t, ['users', action, 'nobody'], /^jvai: no user named "nobody"\n$/);
    await fails(t, ['users', 'delete', 'nobody', '--yes'], /no user named "nobody"/);
  });

  t.test('delete needs --yes without a terminal, then removes the account', async (t) => {
    const bob = await ok(t, ['users', 'create', 'bob', 'bob@example.com', '--password', 'Builder-Bob-99']);
    t.match(bob.stdout, /Created user bob/);
    const session = (await login('bob', 'Builder-Bob-99')).body;
    await fails(t, ['users', 'delete', 'bob'], /pass --yes/);
    t.equal((await login('bob', 'Builder-Bob-99')).status, 200, 'still there');
    t.match((await ok(t, ['users', 'delete', 'bob', '--yes'])).stdout, /Deleted bob/);
    t.equal((await login('bob', 'Builder-Bob-99')).status, 400);
    t.equal((await api.as(session.access).get('/api/users/me/')).status, 401);
    t.notOk((await listed(t)).some((u) => u.username === 'bob'));
  });

  t.test('seed adds demo data that stats counts and the API serves', async (t) => {
    const stats = async () => JSON.parse((await ok(t, ['stats', '--json'])).stdout) as Record<string, number>;
    const before = await stats();
    t.same(Object.keys(before).sort(), ['calls', 'comments', 'group_messages', 'groups', 'messages', 'online_users', 'posts', 'users']);
    const seeded = await ok(t, ['seed', '--users', '6', '--posts', '20', '--likes', '30', '--comments', '12', '--follows', '9', '--messages', '7']);
    t.match(seeded.stdout, 'Created 6 users, 9 follows, 20 posts, 30 likes, 12 comments, 7 messages.');
    const [, username, password] = /Log in as (\S+) \/ (\S+)/.exec(seeded.stdout) ?? [];
    t.equal(username, 'demo1');
    const after = await stats();
    t.same(
      { users: after.users - before.users, posts: after.posts - before.posts, comments: after.comments - before.comments, messages: after.messages - before.messages },
      { users: 6, posts: 20, comments: 12, messages: 7 },
    );
    // A bulk load must leave the planner's statistics fresh (stale ones made PostgreSQL's feed 100× slower).
    const planned = await sqlOf(server.sequelize).read.get<{ rows: unknown }>(
      db ? "SELECT reltuples AS rows FROM pg_class WHERE relname = 'posts'" : "SELECT CAST(stat AS INTEGER) AS rows FROM sqlite_stat1 WHERE idx = 'posts_author_id_id'",
    );
    t.equal(num(planned?.rows), after.posts, 'the planner statistics count the seeded posts');
    if (db) {
      // And PostgreSQL's visibility map, or the feed's index-only scans read every row from the heap too.
      const map = await sqlOf(server.sequelize).read.get<{ visible: unknown; pages: unknown }>("SELECT relallvisible AS visible, relpages AS pages FROM pg_class WHERE relname = 'home_timeline'");
      t.ok(num(map?.pages) > 0 && num(map?.visible) === num(map?.pages), 'the seeded timelines are all-visible');
    } else {
      // Only the averages: with value samples every statement comparing an indexed column with a bound value was compiled again on each run.
      const samples = await sqlOf(server.sequelize).read.all("SELECT name FROM sqlite_schema WHERE name = 'sqlite_stat4'");
      t.same(samples, [], 'no value samples (sqlite_stat4) are left');
    }
    const demo = await login(username, password);
    t.equal(demo.status, 200, 'the printed demo login works');
    t.equal(demo.body.user.following_count, 5, 'demo1 follows the other demo users');

    const again = await ok(t, ['seed', '--users', '2', '--posts', '0', '--likes', '0', '--comments', '0', '--follows', '0', '--messages', '0']);
    t.match(again.stdout, /Log in as demo7 /, 'seeding again continues the numbering');
    await fails(t, ['seed', '--users', 'many'], /--users.*must be a whole number/);
    const table = (await ok(t, ['stats'])).stdout;
    t.match(table, new RegExp(`users\\s+${after.users + 2}\\n`));
    t.match(table, /online users\s+0/);
  });

  t.test('prune deletes dead sessions and old event-log rows, nothing live', async (t) => {
    const alice = (await login('alice', 'Looking-Glass-7')).body;
    const root = (await login('root', 'Adm1n-Passw0rd')).body;
    t.equal((await api.as(alice.access).post('/api/messages/', { receiver: root.user.id, content: 'before the prune' })).status, 201);
    const { sequelize } = server;
    // Revoked long enough ago that none of their access tokens can still be valid, and one past its refresh expiry.
    const [revoked] = await Session.update({ revokedAt: new Date(Date.now() - 2 * 3600_000) }, { where: { revokedAt: { [Op.ne]: null } } });
    t.ok(revoked > 0, 'ban, reset and delete left revoked sessions');
    await Session.create({ id: crypto.randomUUID(), userId: root.user.id, currentJti: crypto.randomUUID(), expiresAt: new Date(Date.now() - 1000) });
    const countEvents = async () => Number((await sequelize.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM user_events', { type: QueryTypes.SELECT }))[0].n);
    const events = await countEvents();
    t.ok(events >= 2, 'the DM is in both users\' logs');
    await sequelize.query('UPDATE user_events SET created_at = :old', { replacements: { old: new Date(Date.now() - 40 * 24 * 3600_000) } });
    const live = await Session.count();

    const pruned = await ok(t, ['prune']);
    t.match(pruned.stdout, `Pruned ${revoked + 1} sessions and ${events} event-log rows.`);
    t.equal(await Session.count(), live - revoked - 1);
    t.equal(await countEvents(), 0);
    t.equal((await api.as(alice.access).get('/api/users/me/')).status, 200, 'live sessions stay');
    t.equal((await api.post('/api/token/refresh/', { refresh: root.refresh })).status, 200);
    t.match((await ok(t, ['prune'])).stdout, 'Pruned 0 sessions and 0 event-log rows.');
  });
});
