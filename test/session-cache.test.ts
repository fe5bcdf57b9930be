/**
 * Authenticated sessions are cached per process (src/services/tokens.ts); whatever changes a
 * session or its user is seen on the very next request: logout, ban, password change, and a
 * profile edit (the sender name a DM carries comes from the authenticated user).
 */
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { User } from '../src/models/index.js';

t.test('a cached session never outlives its revocation or a change to its user', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const bob = await makeUser(api);

  t.test('profile edit: the next DM carries the new username', async (t) => {
    const alice = await makeUser(api);
    t.equal((await alice.api.get('/api/users/me/')).status, 200, 'session cached');
    const renamed = `${alice.username}x`;
    t.equal((await alice.api.patch(`/api/users/${alice.id}/`, { username: renamed })).status, 200);
    const dm = await alice.api.post('/api/messages/', { receiver: bob.id, content: 'hi' });
    t.equal(dm.body.sender_username, renamed);
  });

  t.test('logout: the next request with that access token is refused', async (t) => {
    const alice = await makeUser(api);
    t.equal((await alice.api.get('/api/users/me/')).status, 200);
    t.equal((await alice.api.post('/api/users/logout/', { refresh: alice.refresh })).status, 200);
    t.equal((await alice.api.get('/api/users/me/')).status, 401);
  });

  t.test('ban (as jvai admin does it): refused at once', async (t) => {
    const alice = await makeUser(api);
    t.equal((await alice.api.get('/api/users/me/')).status, 200);
    const user = (await User.findByPk(alice.id))!;
    await server.app.services.users.setBanned(user, true);
    t.equal((await alice.api.get('/api/users/me/')).status, 401);
  });

  t.test('password change: every session of the user, at once', async (t) => {
    const alice = await makeUser(api);
    const second = await api.post('/api/users/login/', { username: alice.username, password: alice.password });
    const other = api.as(second.body.access);
    t.equal((await other.get('/api/users/me/')).status, 200);
    const changed = await alice.api.post('/api/users/change-password/', { old_password: alice.password, new_password: 'An0ther-Secret-Phrase', new_password_confirm: 'An0ther-Secret-Phrase' });
    t.equal(changed.status, 200, JSON.stringify(changed.body));
    t.equal((await other.get('/api/users/me/')).status, 401);
  });
});
