import t from 'tap';
import jwt from 'jsonwebtoken';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';

t.test('auth', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);

  t.test('register returns the user and a token pair', async (t) => {
    const res = await api.post('/api/users/register/', {
      username: 'john_doe', email: 'John@Example.com', password: 'secure_password123', password_confirm: 'secure_password123', first_name: 'John', last_name: 'Doe',
    });
    t.equal(res.status, 201);
    t.match(res.body.user, { id: Number, username: 'john_doe', email: 'john@example.com', first_name: 'John', last_name: 'Doe', full_name: 'John Doe', is_online: false, last_seen: null, profile_picture: null, bio: null });
    t.type(res.body.access, 'string');
    t.type(res.body.refresh, 'string');
    const claims = jwt.decode(res.body.access) as jwt.JwtPayload;
    t.equal(claims.token_type, 'access');
    t.type(claims.exp, 'number');
  });

  t.test('register validation', async (t) => {
    const bad = await api.post('/api/users/register/', { username: 'x y', email: 'nope', password: '12345678', password_confirm: '1234567' });
    t.equal(bad.status, 400);
    t.ok(bad.body.username);
    t.ok(bad.body.email);
    t.ok(bad.body.password_confirm);
    const missing = await api.post('/api/users/register/', {});
    t.same(missing.body.username, ['This field is required.']);
    const weak = await api.post('/api/users/register/', { username: 'weakling', email: 'w@example.com', password: '12345678', password_confirm: '12345678' });
    t.equal(weak.status, 400);
    t.ok(weak.body.password.includes('This password is entirely numeric.'));
    t.ok(weak.body.password.includes('This password is too common.'));
    const similar = await api.post('/api/users/register/', { username: 'margaretha', email: 'm@example.com', password: 'margaretha1', password_confirm: 'margaretha1' });
    t.ok(similar.body.password.includes('The password is too similar to the username.'));
    const dup = await api.post('/api/users/register/', { username: 'JOHN_DOE', email: 'other@example.com', password: 'secure_password123', password_confirm: 'secure_password123' });
    t.same(dup.body, { username: ['A user with that username already exists.'] });
    const dupMail = await api.post('/api/users/register/', { username: 'johnny', email: 'JOHN@example.com', password: 'secure_password123', password_confirm: 'secure_password123' });
    t.same(dupMail.body, { email: ['A user with that email already exists.'] });
    const badJson = await api.request('POST', '/api/users/register/', '{"username": ', { 'Content-Type': 'application/json' });
    t.equal(badJson.status, 400);
    t.match(badJson.body.detail, /JSON parse error/);
  });

  t.test('login by username or email; wrong password is refused', async (t) => {
    const ok = await api.post('/api/users/login/', { username: 'john_doe', password: 'secure_password123' });
    t.equal(ok.status, 200);
    t.equal(ok.body.user.username, 'john_doe');
    const byMail = await api.post('/api/users/login/', { username: 'john@example.com', password: 'secure_password123' });
    t.equal(byMail.status, 200);
    const bad = await api.post('/api/users/login/', { username: 'john_doe', password: 'wrong-password' });
    t.equal(bad.status, 400);
    t.same(bad.body, { non_field_errors: ['Unable to log in with provided credentials.'] });
    const ghost = await api.post('/api/token/', { username: 'nobody', password: 'whatever123' });
    t.equal(ghost.status, 401);
  });

  t.test('tokens: obtain, use, rotate, reuse detection, expiry', async (t) => {
    const pair = await api.post('/api/token/', { username: 'john_doe', password: 'secure_password123' });
    t.equal(pair.status, 200);
    t.equal((await api.as(pair.body.access).get('/api/users/me/')).status, 200);
    t.equal((await api.as(pair.body.refresh).get('/api/users/me/')).status, 401, 'a refresh token is not an access token');
    t.equal((await api.get('/api/users/me/')).status, 401);
    t.equal((await api.request('GET', '/api/users/me/', undefined, { Authorization: 'Token abc' })).status, 401);

    const rotated = await api.post('/api/token/refresh/', { refresh: pair.body.refresh });
    t.equal(rotated.status, 200);
    t.not(rotated.body.refresh, pair.body.refresh);
    t.equal((await api.as(rotated.body.access).get('/api/users/me/')).status, 200);

    const reuse = await api.post('/api/token/refresh/', { refresh: pair.body.refresh });
    t.equal(reuse.status, 401, 'a spent refresh token is refused');
    t.equal((await api.post('/api/token/refresh/', { refresh: rotated.body.refresh })).status, 401, 'reuse revoked the family');
    t.equal((await api.as(rotated.body.access).get('/api/users/me/')).status, 401, 'and its access tokens');

    const forged = jwt.sign({ token_type: 'access', user_id: 1, sid: 'x', jti: 'y' }, 'not-the-secret-not-the-secret-not-the-secret', { expiresIn: 60 });
    t.equal((await api.as(forged).get('/api/users/me/')).status, 401);
    const none = jwt.sign({ token_type: 'access', user_id: 1, sid: 'x', jti: 'y', exp: Math.floor(Date.now() / 1000) + 60 }, '', { algorithm: 'none' });
    t.equal((await api.as(none).get('/api/users/me/')).status, 401, 'alg=none is refused');
    const expired = jwt.sign({ token_type: 'access', user_id: 1, sid: 'x', jti: 'y', exp: Math.floor(Date.now() / 1000) - 10 }, server.app.services.deps.config.jwtSecret);
    t.equal((await api.as(expired).get('/api/users/me/')).status, 401);
  });

  t.test('logout revokes; password change revokes every session', async (t) => {
    const u = await makeUser(api);
    const other = await api.post('/api/users/login/', { username: u.username, password: u.password });
    const out = await u.api.post('/api/users/logout/', { refresh: u.refresh });
    t.equal(out.status, 200);
    t.equal((await u.api.get('/api/users/me/')).status, 401);
    t.equal((await api.post('/api/token/refresh/', { refresh: u.refresh })).status, 401);
    t.equal((await api.as(other.body.access).get('/api/users/me/')).status, 200, 'other sessions live on');

    const wrong = await api.as(other.body.access).post('/api/users/change-password/', { old_password: 'nope', new_password: 'An0ther-Passphrase' });
    t.equal(wrong.status, 400);
    const changed = await api.as(other.body.access).post('/api/users/change-password/', { old_password: u.password, new_password: 'An0ther-Passphrase' });
    t.equal(changed.status, 200);
    t.equal((await api.as(other.body.access).get('/api/users/me/')).status, 401);
    t.equal((await api.as(changed.body.access).get('/api/users/me/')).status, 200);
    t.equal((await api.post('/api/users/login/', { username: u.username, password: 'An0ther-Passphrase' })).status, 200);
  });
});

t.test('auth endpoints are rate limited', async (t) => {
  const server = await startTestServer(t, { authRateLimit: 3 });
  const api = new Api(server.url);
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await api.post('/api/token/', { username: 'x', password: 'yyyyyyyy' })).status);
  t.same(statuses, [401, 401, 401, 429]);
  const res = await api.post('/api/token/', { username: 'x', password: 'yyyyyyyy' });
  t.equal(res.status, 429);
  t.ok(Number(res.headers.get('retry-after')) >= 1);
});
