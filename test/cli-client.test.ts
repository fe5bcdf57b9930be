/** The scriptable terminal client as a user runs it: the compiled `jvai` in a child process, against a real server. */
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { startTestServer } from './helpers/server.js';
import { runJvai, type CliRun } from './helpers/serve.js';
import { runCli } from './helpers/terminal.js';
import { Api, makeUser } from './helpers/api.js';
import { pngBytes } from './helpers/images.js';

const PASSWORD = 'Corr3ct-Horse-Battery';
const STACK = /\n\s+at .*:\d+:\d+/;
/** A relative time as the readable output prints it (a loaded machine may take seconds between two commands). */
const WHEN = '(?:just now|\\d+s ago|\\d+m ago)';

interface StoredSession {
  server: string;
  username: string;
  access: string;
  refresh: string;
}

/** One terminal: its own config dir, hence its own session. */
interface Terminal {
  dir: string;
  file: string;
  run(args: string[], stdin?: string, extraEnv?: NodeJS.ProcessEnv): Promise<CliRun>;
  /** Runs with --json, expects success and parses stdout. */
  json<T = any>(args: string[]): Promise<T>;
  session(): StoredSession;
}

function terminal(t: Test): Terminal {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-cli-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const dir = path.join(root, 'config');
  const env: NodeJS.ProcessEnv = { ...process.env, JVAI_CONFIG_DIR: dir, NO_COLOR: '1' };
  delete env.JVAI_SERVER;
  // tap preloads its process tracker through NODE_OPTIONS; the compiled CLI needs none of it (and starts faster).
  delete env.NODE_OPTIONS;
  const run = (args: string[], stdin = '', extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> => runJvai(args, { env: { ...env, ...extraEnv }, input: stdin });
  const file = path.join(dir, 'session.json');
  return {
    dir,
    file,
    run,
    async json(args) {
      const res = await run([...args, '--json']);
      if (res.code !== 0) throw new Error(`jvai ${args.join(' ')} failed (${res.code}): ${res.stderr}`);
      return JSON.parse(res.stdout);
    },
    session: () => JSON.parse(fs.readFileSync(file, 'utf8')),
  };
}

/**
 * A terminal logged in as a new user. Registering through the API and writing the session
 * file saves a process per user; the CLI's own register/login are tested on their own.
 */
async function loggedIn(t: Test, server: string): Promise<Terminal & { id: number; username: string }> {
  const user = await makeUser(new Api(server));
  const term = terminal(t);
  fs.mkdirSync(term.dir, { recursive: true });
  fs.writeFileSync(term.file, JSON.stringify({ server, username: user.username, access: user.access, refresh: user.refresh }));
  return { ...term, id: user.id, username: user.username };
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const uniq = (base: string) => `${base}${process.pid}${Math.floor(Math.random() * 1e6)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Each CLI run is a whole Node process (a second or more on a busy machine), and there are dozens.
t.setTimeout(360_000);

t.test('cli client', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);

  t.test('register, whoami, login, and a private session file', async (t) => {
    const name = uniq('ann');
    const term = terminal(t);
    const reg = await term.run(['register', '--server', server.url, '--username', name, '--email', `${name}@example.com`, '--first-name', 'Ann', '--last-name', 'Lee'], `${PASSWORD}\n`);
    t.equal(reg.code, 0, reg.stderr);
    t.equal(reg.stdout, `Registered on ${server.url} as ${name}.\n`);
    t.notMatch(reg.stdout + reg.stderr, PASSWORD, 'the password is never echoed');

    t.equal(fs.statSync(term.file).mode & 0o777, 0o600, 'session file is 0600');
    t.equal(fs.statSync(term.dir).mode & 0o777, 0o700, 'config dir is 0700');
    t.same(fs.readdirSync(term.dir).sort(), ['server.json', 'session.json'], 'no temp files left behind');
    const first = term.session();
    t.match(first, { server: server.url, username: name, access: String, refresh: String });

    const [me, readable] = await Promise.all([term.json(['whoami']), term.run(['whoami'])]);
    t.match(me, { username: name, email: `${name}@example.com`, full_name: 'Ann Lee', followers_count: 0 });
    t.match(readable.stdout, `${name} (Ann Lee)`);
    t.match(readable.stdout, `server: ${server.url}`);

    const login = await term.run(['login', '--server', server.url, '--username', name, '--json'], `${PASSWORD}\n`);
    t.equal(login.code, 0, login.stderr);
    t.match(JSON.parse(login.stdout), { username: name });
    t.notMatch(login.stdout, /refresh|access/, '--json never prints the tokens');
    t.not(term.session().refresh, first.refresh, 'login stores a new token pair');
    t.equal(fs.statSync(term.file).mode & 0o777, 0o600);

    const [bad, weak] = await Promise.all([
      term.run(['login', '--server', server.url, '--username', name], 'wrong-password\n'),
      terminal(t).run(['register', '--server', server.url, '--username', uniq('weak'), '--email', 'weak@example.com'], '12345678\n'),
    ]);
    t.equal(bad.code, 1);
    t.equal(bad.stderr, 'jvai: Unable to log in with provided credentials.\n');
    t.equal(weak.code, 1);
    t.match(weak.stderr, /^jvai: password: .*This password is entirely numeric\./);
    t.notMatch(weak.stderr, STACK);
  });

  t.test('follow, post (with and without an image), feed, like, comment, show, edit, delete', async (t) => {
    const ann = await loggedIn(t, server.url);
    const bob = await loggedIn(t, server.url);

    const follow = await ann.run(['follow', bob.username]);
    t.equal(follow.code, 0, follow.stderr);
    t.equal(follow.stdout, `Now following ${bob.username}\n`);
    t.same(await ann.json(['follow', String(bob.id)]), { message: `Now following ${bob.username}` }, 'a numeric id works too');
    const [following, followers, profile, found, users] = await Promise.all([
      ann.json(['following']),
      bob.json(['followers']),
      ann.json(['user', bob.username]),
      ann.json(['users', '--search', bob.username]),
      ann.run(['users', '--search', bob.username]),
    ]);
    t.match(following, [{ username: bob.username, is_following: true }]);
    t.match(followers, [{ username: ann.username }]);
    t.match(profile, { id: bob.id, username: bob.username, followers_count: 1, is_following: true, email: null });
    t.match(found, [{ id: bob.id }]);
    t.match(users.stdout, /ID\s+USERNAME\s+NAME\s+FOLLOWERS/);
    t.match(users.stdout, `${bob.username} ✓`);

    const png = path.join(bob.dir, 'pic.png');
    fs.writeFileSync(png, await pngBytes());
    const withImage = await bob.json(['post', 'look', 'at', 'this', '--image', png]);
    t.match(withImage, { author_username: bob.username, content: 'look at this', image: /^http:\/\/.*\/media\//, likes_count: 0, comments: [] });
    t.equal((await fetch(withImage.image)).status, 200, 'the uploaded image is served');
    const imageOnly = await bob.json(['post', '--image', png]);
    t.match(imageOnly, { content: '', image: String });
    const plain = await bob.run(['post', 'hello', 'from', 'the', 'terminal']);
    t.equal(plain.code, 0, plain.stderr);
    t.match(plain.stdout, new RegExp(`^Posted:\n#\\d+ · \\S+ · ${WHEN} · 0 likes · 0 comments\n {2}hello from the terminal\n$`));

    const [noText, missingFile, feed, mine] = await Promise.all([
      bob.run(['post']),
      bob.run(['post', 'x', '--image', path.join(bob.dir, 'nope.png')]),
      ann.json(['feed', '--limit', '2']),
      bob.json(['posts', '--mine']),
    ]);
    t.equal(noText.code, 2, 'nothing to post is a usage error');
    t.match(noText.stderr, 'a post needs text or --image');
    t.equal(missingFile.code, 1);
    t.match(missingFile.stderr, 'no such file');
    t.equal(feed.length, 2);
    t.match(feed[0], { author_username: bob.username, content: 'hello from the terminal' });
    const postId: number = feed[0].id;
    t.same(mine.map((p: { id: number }) => p.id), [postId, imageOnly.id, withImage.id]);

    t.same(await ann.json(['like', String(postId)]), { message: 'Post liked', liked: true });
    const comment = await ann.json(['comment', String(postId), 'nice', 'one']);
    t.match(comment, { post: postId, content: 'nice one', author_username: ann.username });
    t.equal((await bob.run(['like', String(comment.id), '--comment'])).stdout, 'Comment liked.\n');

    const [shown, readable] = await Promise.all([bob.json(['show', String(postId)]), bob.run(['show', String(postId)])]);
    t.match(shown, { id: postId, likes_count: 1, comments_count: 1, comments: [{ id: comment.id, content: 'nice one', likes_count: 1, user_liked: true }] });
    t.match(readable.stdout, /1 like · 1 comment\n {2}hello from the terminal\n/);
    t.match(readable.stdout, new RegExp(`Comments\n {2}#\\d+ · \\S+ · ${WHEN} · 1 like \\(you\\)\n {4}nice one`));
    t.equal((await ann.run(['like', String(postId)])).stdout, 'Post unliked.\n');

    const [edited, notMine] = await Promise.all([bob.json(['edit', String(postId), 'edited', 'text']), ann.run(['edit', String(postId), 'hijack'])]);
    t.match(edited, { id: postId, content: 'edited text' });
    t.equal(notMine.code, 1);
    t.equal(notMine.stderr, `jvai: post ${postId} is not yours: only its author can edit it\n`);

    const delComment = await ann.run(['delete', String(comment.id), '--comment']);
    t.equal(delComment.code, 0, delComment.stderr);
    t.equal(delComment.stdout, `Deleted comment #${comment.id}.\n`);
    t.equal(await bob.json(['delete', String(postId)]), null, 'a 204 prints null with --json');
    const [gone, likeGone, unfollow, ghost] = await Promise.all([
      bob.run(['show', String(postId)]),
      bob.run(['like', '999999']),
      ann.json(['unfollow', bob.username]),
      ann.run(['follow', uniq('nobody')]),
    ]);
    t.equal(gone.code, 1);
    t.equal(gone.stderr, `jvai: no post ${postId}\n`);
    t.equal(likeGone.code, 1);
    t.equal(likeGone.stderr, 'jvai: no post 999999\n');
    t.same(unfollow, { message: `Unfollowed ${bob.username}` });
    t.equal(ghost.code, 1);
    t.match(ghost.stderr, /no user named/);
  });

  t.test('direct messages and groups', async (t) => {
    const ann = await loggedIn(t, server.url);
    const bob = await loggedIn(t, server.url);

    const dm = await ann.json(['dm', bob.username, 'hi', 'bob']);
    t.match(dm, { id: Number, sender_username: ann.username, receiver_username: bob.username, content: 'hi bob', is_read: false });
    const sent = await ann.run(['dm', String(bob.id), 'second']);
    t.match(sent.stdout, /^Sent #\d+ to \S+\.\n$/);
    const self = await ann.run(['dm', ann.username, 'me']);
    t.equal(self.code, 1);
    t.notMatch(self.stderr, STACK);
    const [nobodyByName, nobodyById] = await Promise.all([ann.run(['dm', 'nosuch', 'hi']), ann.run(['dm', '999999', 'hi'])]);
    t.equal(nobodyByName.code, 1);
    t.equal(nobodyByName.stderr, 'jvai: no user named "nosuch"\n', 'the error names the user, not the API field');
    t.equal(nobodyById.stderr, 'jvai: no user with id 999999\n');

    const [conversations, inbox, thread, threadText] = await Promise.all([
      bob.json(['messages']),
      bob.run(['messages']),
      bob.json(['messages', ann.username]),
      bob.run(['messages', ann.username]),
    ]);
    t.match(conversations, [{ user: { username: ann.username, is_online: Boolean }, last_message: { content: 'second' }, unread_count: 2 }]);
    t.match(inbox.stdout, new RegExp(`${ann.username}\\s+2\\s+${WHEN}\\s+second`));
    t.same(thread.map((m: { content: string }) => m.content), ['hi bob', 'second'], 'oldest first');
    t.match(threadText.stdout, `${ann.username} → ${bob.username}: hi bob (unread)`);

    const forbidden = await ann.run(['read', String(dm.id)]);
    t.equal(forbidden.code, 1, 'only the receiver marks as read');
    t.equal(forbidden.stderr, `jvai: message ${dm.id} was not sent to you: only its receiver can mark it read\n`);
    t.match(await bob.json(['read', String(dm.id)]), { id: dm.id, is_read: true, read_at: String });

    const png = path.join(ann.dir, 'g.png');
    fs.writeFileSync(png, await pngBytes());
    const group = await ann.json(['group', 'create', 'Terminal', 'Fans', '--description', 'we like TTYs', '--image', png]);
    t.match(group, { name: 'Terminal Fans', description: 'we like TTYs', image: String, members_count: 1, is_member: true, is_admin: true, creator_username: ann.username });
    const gid = String(group.id);
    const [notMember, notMemberSend] = await Promise.all([bob.run(['group-messages', gid]), bob.run(['group-send', gid, 'hi'])]);
    t.equal(notMember.code, 1);
    t.equal(notMember.stderr, `jvai: you are not a member of group ${gid}: jvai group join ${gid}\n`);
    t.equal(notMemberSend.code, 1);
    t.equal(notMemberSend.stderr, notMember.stderr);
    t.same(await bob.json(['group', 'join', gid]), { message: 'Joined group successfully' });
    const twice = await bob.run(['group', 'join', gid]);
    t.equal(twice.code, 1, 'joining twice is refused');

    const [members, membersText, mine] = await Promise.all([ann.json(['group', 'members', gid]), ann.run(['group', 'members', gid]), bob.json(['groups', '--mine'])]);
    t.same(members.map((m: { username: string; role: string }) => [m.username, m.role]).sort(), [[ann.username, 'admin'], [bob.username, 'member']].sort());
    t.match(membersText.stdout, new RegExp(`${ann.username}\\s+.*admin`));
    t.match(mine, [{ id: group.id, is_member: true, is_admin: false }]);

    t.match(await bob.json(['group-send', gid, 'hello', 'group']), { group: group.id, sender_username: bob.username, content: 'hello group' });
    await ann.run(['group-send', gid, 'welcome']);
    const [messages, messagesText] = await Promise.all([ann.json(['group-messages', gid]), ann.run(['group-messages', gid])]);
    t.same(messages.map((m: { content: string }) => m.content), ['welcome', 'hello group'], 'the API order: newest first');
    t.match(messagesText.stdout, new RegExp(`${bob.username}: hello group\\n.*${ann.username}: welcome`), 'readable: oldest first');

    t.same(await bob.json(['group', 'leave', gid]), { message: 'Left group successfully' });
    const [missing, noSub] = await Promise.all([bob.run(['group', 'join', '999999']), bob.run(['group'])]);
    t.equal(missing.code, 1);
    t.equal(missing.stderr, 'jvai: no group 999999\n');
    t.equal(noSub.code, 2, 'a group without a subcommand is a usage error');
    t.equal(noSub.stderr, 'jvai: `jvai group` needs a subcommand (see `jvai group --help`)\n');
  });

  t.test('calls lists', async (t) => {
    const ann = await loggedIn(t, server.url);
    const bob = await makeUser(api);
    const call = await api.as(ann.session().access).post('/api/calls/', { receiver: bob.id, call_type: 'video' });
    t.equal(call.status, 201);
    const [active, before] = await Promise.all([ann.json(['calls', '--active']), ann.json(['calls', '--history'])]);
    t.match(active, [{ id: call.body.id, status: 'pending', call_type: 'video' }]);
    t.same(before, []);
    t.equal((await bob.api.post(`/api/calls/${call.body.id}/accept/`)).status, 200);
    t.equal((await bob.api.post(`/api/calls/${call.body.id}/end/`)).status, 200);

    const [history, missed, all, readable, both] = await Promise.all([
      ann.json(['calls', '--history']),
      ann.json(['calls', '--missed']),
      ann.json(['calls']),
      ann.run(['calls']),
      ann.run(['calls', '--history', '--missed']),
    ]);
    t.match(history, [{ id: call.body.id, status: 'ended', duration: Number, caller: { username: ann.username }, callee: { id: bob.id } }]);
    t.same(missed, []);
    t.equal(all.length, 1);
    t.match(readable.stdout, /ID\s+TYPE\s+WITH\s+STATUS\s+TALK TIME\s+WHEN/);
    t.match(readable.stdout, new RegExp(`video\\s+→ ${bob.username}\\s+ended\\s+0:0\\d`));
    t.equal(both.code, 2, 'conflicting lists are a usage error');
  });

  t.test('calls that never connected show no talk time', async (t) => {
    const ann = await loggedIn(t, server.url);
    const [bob, carol] = [await makeUser(api), await makeUser(api)];
    const annApi = api.as(ann.session().access);
    const cancelled = (await annApi.post('/api/calls/', { receiver: bob.id })).body;
    t.equal((await annApi.post(`/api/calls/${cancelled.id}/end/`)).status, 200);
    const declined = (await annApi.post('/api/calls/', { receiver: carol.id })).body;
    t.equal((await carol.api.post(`/api/calls/${declined.id}/reject/`)).status, 200);
    const { stdout } = await ann.run(['calls']);
    t.match(stdout, new RegExp(`→ ${bob.username}\\s+missed\\s+—\\s`), 'a cancelled (missed) call: —');
    t.match(stdout, new RegExp(`→ ${carol.username}\\s+rejected\\s+—\\s`), 'a rejected call: —');
    t.notMatch(stdout, /\d:\d\d/, 'no ring time shown as a duration');
  });

  t.test('errors: not logged in, bad arguments, server down, damaged session', async (t) => {
    const fresh = terminal(t);
    const down = `http://127.0.0.1:${await closedPort()}`;
    const [out, usage, badLimit, badServer, login] = await Promise.all([
      fresh.run(['feed']),
      fresh.run(['show', 'abc']),
      fresh.run(['feed', '--limit', '0']),
      fresh.run(['login', '--server', 'ftp://x', '--username', 'a'], 'pw\n'),
      fresh.run(['login', '--server', down, '--username', 'ann'], 'whatever-pass\n'),
    ]);
    t.equal(out.code, 1);
    t.equal(out.stderr, 'jvai: not logged in: run `jvai login`\n');
    t.equal(out.stdout, '');
    t.equal(usage.code, 2);
    t.match(usage.stderr, /post-id.*positive whole number/);
    t.equal(badLimit.code, 2);
    t.equal(badServer.code, 2);
    t.match(badServer.stderr, '--server must be an http or https URL');
    t.equal(login.code, 1);
    t.match(login.stderr, `cannot reach the server at ${down} (ECONNREFUSED)`);
    t.notMatch(login.stderr, STACK);

    const term = await loggedIn(t, server.url);
    fs.writeFileSync(term.file, JSON.stringify({ ...term.session(), server: down }));
    const feed = await term.run(['feed', '--json']);
    t.equal(feed.code, 1);
    t.equal(feed.stdout, '', '--json prints nothing on failure');
    t.equal(feed.stderr, `jvai: cannot reach the server at ${down} (ECONNREFUSED)\n`);

    fs.writeFileSync(term.file, '{"server": 1');
    const damaged = await term.run(['whoami']);
    t.equal(damaged.code, 1);
    t.match(damaged.stderr, /damaged: run `jvai login` again/);
  });

  t.test('login goes back to the last server after the session ended or was logged out', async (t) => {
    const name = uniq('dana');
    const term = terminal(t);
    const reg = await term.run(['register', '--server', server.url, '--username', name, '--email', `${name}@example.com`], `${PASSWORD}\n`);
    t.equal(reg.code, 0, reg.stderr);
    // The server ends the session (as a password change or a ban would): the session file remains, its tokens are dead.
    const { access, refresh } = term.session();
    t.equal((await api.as(access).post('/api/users/logout/', { refresh })).status, 200);
    const expired = await term.run(['whoami']);
    t.equal(expired.stderr, 'jvai: your session has expired or was revoked: run `jvai login`\n');
    const again = await term.run(['login', '--username', name], `${PASSWORD}\n`);
    t.equal(again.code, 0, again.stderr);
    t.equal(again.stdout, `Logged in to ${server.url} as ${name}.\n`);

    t.equal((await term.run(['logout'])).code, 0);
    const afterLogout = await term.run(['login', '--username', name], `${PASSWORD}\n`);
    t.equal(afterLogout.stdout, `Logged in to ${server.url} as ${name}.\n`, 'the server outlives the session file');
  });

  t.test('call: an unknown user is one error line; answer --reject opens no sound device', async (t) => {
    const ann = await loggedIn(t, server.url);
    // No sound tools on PATH (nor for runCli): a sound warning shows whenever the command opens a device.
    const nobody = await ann.run(['call', 'nosuch'], '', { PATH: path.dirname(process.execPath) });
    t.equal(nobody.code, 1);
    t.equal(nobody.stdout, '', 'nothing like "calling nosuch…" before the error');
    t.equal(nobody.stderr, 'jvai: no user named "nosuch"\n', 'no sound warning either: no call happened');

    const bob = await makeUser(api);
    const answering = runCli(t, ann.dir, ['answer', '--reject', '--timeout', '60']);
    await answering.waitFor(/waiting up to 60 s for a call/);
    t.equal((await bob.api.post('/api/calls/', { receiver: ann.id })).status, 201);
    await answering.waitFor(new RegExp(`call from ${bob.username} rejected`));
    t.equal(await answering.exited(), 0, answering.stderr);
    t.equal(answering.stderr, '', 'no warning about a microphone that is not needed');
  });

  t.test('logout revokes the refresh token and forgets the session', async (t) => {
    const term = await loggedIn(t, server.url);
    const { refresh } = term.session();
    const out = await term.run(['logout']);
    t.equal(out.code, 0, out.stderr);
    t.equal(out.stdout, `Logged out of ${server.url}.\n`);
    t.notOk(fs.existsSync(term.file), 'the session file is gone');
    t.equal((await api.post('/api/token/refresh/', { refresh })).status, 401, 'the old refresh token no longer refreshes');
    const after = await term.run(['whoami']);
    t.equal(after.code, 1);
    t.match(after.stderr, 'not logged in');
  });
});

t.test('an expired access token is refreshed and the rotated pair stored', async (t) => {
  // Two seconds, not one: a token's exp is whole seconds, so a one-second token can expire
  // within a millisecond of being issued, before the refreshed command gets to use it.
  const server = await startTestServer(t, { accessTokenTtlSeconds: 2 });
  const api = new Api(server.url);
  const term = await loggedIn(t, server.url);
  const before = term.session();
  await sleep(3100);
  t.equal((await api.as(before.access).get('/api/users/me/')).status, 401, 'the stored access token has expired');

  const me = await term.json(['whoami']);
  t.equal(me.username, before.username, 'the command still works');
  const after = term.session();
  t.not(after.access, before.access);
  t.not(after.refresh, before.refresh, 'the rotated refresh token is stored');
  t.equal(fs.statSync(term.file).mode & 0o777, 0o600);

  // Replaying the spent token is refused, and reuse detection ends the whole session: the CLI asks for a new login.
  t.equal((await api.post('/api/token/refresh/', { refresh: before.refresh })).status, 401, 'the spent refresh token is refused');
  await sleep(2100);
  const revoked = await term.run(['whoami']);
  t.equal(revoked.code, 1);
  t.equal(revoked.stderr, 'jvai: your session has expired or was revoked: run `jvai login`\n');
});
