/**
 * Revocation reaches live sockets: logout closes that session's sockets, password change and
 * refresh-token reuse close theirs, a token's expiry closes the socket opened with it, and a
 * ban or deletion made by another process (`jvai admin`, no Redis) closes them within 2 s.
 * Runs on SQLite, or PostgreSQL with JVAI_TEST_DATABASE_URL. Needs `npm run build` (the CLI).
 */
import t from 'tap';
import type WebSocket from 'ws';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { closeCode, connectWs, nextFrame, sendJson, wsUrl } from './helpers/ws.js';
import { connectIo, ioClosed } from './helpers/socketio.js';
import { runJvai } from './helpers/serve.js';

const CLOSED_WITHIN_MS = 2_000;

/** The session id an access token carries. */
const sessionOf = (user: TestUser): string => JSON.parse(Buffer.from(user.access.split('.')[1], 'base64url').toString()).sid;

t.test('revocation closes live sockets', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const { config } = server.app.services.deps;

  /** A second session of the same user. */
  const loginAgain = async (user: TestUser): Promise<TestUser> => {
    const res = await api.post('/api/users/login/', { username: user.username, password: user.password });
    t.equal(res.status, 200);
    return { ...user, access: res.body.access, refresh: res.body.refresh, api: api.as(res.body.access) };
  };
  const dmSocket = (who: TestUser, peer: TestUser) => connectWs(wsUrl(server.url, `/ws/messages/${peer.id}/`), who.access);
  /** A frame the socket sends is stored and echoed: the socket is fully working. */
  const works = async (socket: WebSocket, content: string) => {
    sendJson(socket, { type: 'message', content });
    await nextFrame(socket, (f) => f.type === 'message' && f.content === content);
  };

  t.test('logout closes the sockets of that session only', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const other = await loginAgain(alice);
    const ws = await dmSocket(alice, bob);
    const socketIo = await connectIo(t, server.url, alice.access);
    const otherWs = await dmSocket(other, bob);
    t.equal((await api.as(alice).post('/api/users/logout/', { refresh: alice.refresh })).status, 200);
    t.equal(await closeCode(ws), 4401, 'the raw socket of the session closes with 4401');
    t.match(await ioClosed(socketIo), { code: 4401, reason: 'io server disconnect' }, 'and its socket.io connection');
    await works(otherWs, 'the other session still sends');
  });

  t.test('logout without a refresh token ends the session of the access token', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const other = await loginAgain(alice);
    const ws = await dmSocket(alice, bob);
    const otherWs = await dmSocket(other, bob);
    t.equal((await api.as(alice).post('/api/users/logout/', {})).status, 200);
    t.equal(await closeCode(ws), 4401);
    await works(otherWs, 'still here');
  });

  t.test('a password change closes every session’s sockets', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const other = await loginAgain(alice);
    const sockets = [await dmSocket(alice, bob), await dmSocket(other, bob)];
    const socketIo = await connectIo(t, server.url, other.access);
    const res = await api.as(alice).post('/api/users/change-password/', { old_password: alice.password, new_password: 'An0ther-Long-Passphrase' });
    t.equal(res.status, 200);
    t.same(await Promise.all(sockets.map((s) => closeCode(s))), [4401, 4401]);
    t.equal((await ioClosed(socketIo)).code, 4401);
    const fresh = await dmSocket({ ...alice, access: res.body.access }, bob);
    await works(fresh, 'the new session works');
    // A revocation only the poll of session_revocations can deliver (as if made by another
    // process): once it closed its socket, the poll has also read the password change's rows.
    const witness = await dmSocket(bob, alice);
    await server.sequelize.getQueryInterface().bulkInsert('session_revocations', [{ user_id: bob.id, session_id: sessionOf(bob), created_at: new Date() }]);
    t.equal(await closeCode(witness), 4401, 'the poll closes a socket of a session revoked elsewhere');
    await works(fresh, 'and leaves the sessions opened after the change alone');
  });

  t.test('reusing a spent refresh token closes the session’s sockets', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const rotated = await api.post('/api/token/refresh/', { refresh: alice.refresh });
    t.equal(rotated.status, 200);
    const ws = await dmSocket({ ...alice, access: rotated.body.access }, bob);
    t.equal((await api.post('/api/token/refresh/', { refresh: alice.refresh })).status, 401, 'the spent token is refused');
    t.equal(await closeCode(ws), 4401, 'and the family it belonged to is closed');
  });

  t.test('deleting one’s account closes its sockets', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    const ws = await dmSocket(alice, bob);
    const socketIo = await connectIo(t, server.url, alice.access);
    t.equal((await api.as(alice).delete(`/api/users/${alice.id}/`)).status, 204);
    t.equal(await closeCode(ws), 4401);
    t.equal((await ioClosed(socketIo)).code, 4401);
  });

  t.test('a revocation while the socket is being admitted still closes it', async (t) => {
    const [alice, bob] = [await makeUser(api), await makeUser(api)];
    // The /ws/messages/ endpoint looks the peer up after authenticating: log out right then.
    const users = server.app.services.users;
    const lookUp = users.get;
    users.get = async function (this: typeof users, ...args: Parameters<typeof lookUp>) {
      users.get = lookUp;
      const found = await lookUp.apply(this, args);
      t.equal((await api.as(alice).post('/api/users/logout/', {})).status, 200);
      return found;
    } as typeof lookUp;
    t.teardown(() => {
      users.get = lookUp;
    });
    const ws = await dmSocket(alice, bob);
    const openedAt = Date.now();
    t.equal(await closeCode(ws), 4401);
    // The revocation went out before the socket joined its rooms; it is checked again on joining,
    // rather than waiting for the next poll of the revocations table (up to 1 s).
    t.ok(Date.now() - openedAt < 800, `closed ${Date.now() - openedAt} ms after it opened`);
  });

  t.test('a ban or deletion by `jvai admin` (another process, no Redis) closes sockets within 2 s', async (t) => {
    const env: NodeJS.ProcessEnv = { ...process.env, JVAI_DATA_DIR: server.dataDir };
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'JVAI_CONFIG']) delete env[name];
    if (config.databaseUrl) env.DATABASE_URL = config.databaseUrl;
    const admin = async (...args: string[]) => {
      const res = await runJvai(['admin', ...args], { env, cwd: server.dataDir });
      t.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      return Date.now();
    };
    for (const command of [['ban'], ['delete', '--yes']]) {
      const [mallory, bob] = [await makeUser(api), await makeUser(api)];
      const ws = await dmSocket(mallory, bob);
      const socketIo = await connectIo(t, server.url, mallory.access);
      await works(ws, 'before');
      const wsClosed = closeCode(ws, 60_000).then((code) => ({ code, at: Date.now() }));
      const ioEnded = ioClosed(socketIo, 60_000).then(({ code }) => ({ code, at: Date.now() }));
      const doneAt = await admin('users', command[0], mallory.username, ...command.slice(1));
      for (const [name, closed] of [['raw socket', wsClosed], ['socket.io', ioEnded]] as const) {
        const { code, at } = await closed;
        t.equal(code, 4401, `${command[0]}: the ${name} closes with 4401`);
        t.ok(at - doneAt < CLOSED_WITHIN_MS, `${command[0]}: the ${name} closed ${at - doneAt} ms after the command finished`);
      }
    }
  });
});

t.test('a socket closes when its access token expires', async (t) => {
  const server = await startTestServer(t, { accessTokenTtlSeconds: 4 });
  const api = new Api(server.url);
  // Alice's token is the newer one: a slow machine still opens her sockets well within its life.
  const bob = await makeUser(api);
  const alice = await makeUser(api);
  const ws = await connectWs(wsUrl(server.url, `/ws/messages/${bob.id}/`), alice.access);
  const socketIo = await connectIo(t, server.url, alice.access);
  const { exp } = JSON.parse(Buffer.from(alice.access.split('.')[1], 'base64url').toString()) as { exp: number };
  sendJson(ws, { type: 'message', content: 'while valid' });
  await nextFrame(ws, (f) => f.type === 'message' && f.content === 'while valid');
  t.equal(await closeCode(ws), 4401, 'the raw socket closes with 4401');
  t.equal((await ioClosed(socketIo)).code, 4401, 'and the socket.io connection');
  t.ok(Date.now() >= exp * 1000 - 50, 'at the expiry, not before');
  t.ok(Date.now() < exp * 1000 + 2_000, 'and promptly');
  const refreshed = await api.post('/api/token/refresh/', { refresh: alice.refresh });
  t.equal(refreshed.status, 200, 'the client refreshes');
  const again = await connectWs(wsUrl(server.url, `/ws/messages/${bob.id}/?since=0`), refreshed.body.access);
  await nextFrame(again, (f) => f.type === 'message' && f.content === 'while valid', 3000);
  t.pass('and resumes with since');
});
