/**
 * Presence of a single process (no Redis) that dies without closing: the next start flags
 * offline everyone the dead run left online, whether by a connection or by REST set-online.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Api, makeUser } from './helpers/api.js';
import { PG_URL, createPgDatabase } from './helpers/server.js';
import { exited, freePort, serve } from './helpers/serve.js';
import { connectWs, wsUrl } from './helpers/ws.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

t.test('a restart after kill -9 flags offline the users the dead run left online', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-presence-'));
  const db = PG_URL ? await createPgDatabase(PG_URL) : null;
  // REDIS_URL empty: this is the single-process mode whatever the environment says.
  const env: Record<string, string> = { REDIS_URL: '', ...(db ? { DATABASE_URL: db.url } : {}) };
  const port = await freePort();
  let child = await serve(dataDir, port, env);
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const api = new Api(`http://127.0.0.1:${port}`);
  const [socketUser, restUser, offlineUser] = [await makeUser(api), await makeUser(api), await makeUser(api)];
  const socket = await connectWs(wsUrl(api.base, '/ws/status/'), socketUser.access);
  socket.on('error', () => {});
  t.equal((await restUser.api.post('/api/users/set-online/')).status, 200);
  const isOnline = async (id: number) => (await api.as(offlineUser).get(`/api/users/${id}/`)).body.is_online;
  for (let i = 0; i < 50 && !(await isOnline(socketUser.id)); i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(await isOnline(socketUser.id), true, 'online by a connection');
  t.equal(await isOnline(restUser.id), true, 'online by set-online');

  child.kill('SIGKILL');
  await exited(child);
  child = await serve(dataDir, port, env);
  for (const user of [socketUser, restUser]) {
    const profile = (await api.as(offlineUser).get(`/api/users/${user.id}/`)).body;
    t.match(profile, { is_online: false, last_seen: ISO }, `user ${user.username} is offline after the restart, with last_seen`);
  }
  const online = await api.as(offlineUser).get('/api/users/online/');
  t.same(online.body, [], 'nobody is listed online');
});
