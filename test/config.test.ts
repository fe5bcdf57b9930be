import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-config-'));

t.test('defaults < file < env < flags', async (t) => {
  const dir = tmp();
  const file = path.join(dir, 'c.json');
  fs.writeFileSync(file, JSON.stringify({ port: 7000, ringTimeoutSeconds: 10, logLevel: 'warn' }));
  const cfg = loadConfig({ file, env: { PORT: '7100', RING_TIMEOUT: '20' }, flags: { dataDir: dir, port: 7200 } });
  t.equal(cfg.port, 7200);
  t.equal(cfg.ringTimeoutSeconds, 20);
  t.equal(cfg.logLevel, 'warn');
  t.equal(cfg.accessTokenTtlSeconds, 3600);
  t.equal(cfg.dataDir, dir);
});

t.test('a generated JWT secret is kept in the data dir, private', async (t) => {
  const dir = tmp();
  const a = loadConfig({ file: false, env: {}, flags: { dataDir: dir } });
  const b = loadConfig({ file: false, env: {}, flags: { dataDir: dir } });
  t.ok(a.jwtSecret.length >= 32);
  t.equal(a.jwtSecret, b.jwtSecret);
  t.equal(fs.statSync(path.join(dir, 'jwt-secret')).mode & 0o777, 0o600);
});

t.test('every problem is reported at once', async (t) => {
  const err = t.throws(() =>
    loadConfig({ file: false, env: { PORT: 'eighty', JWT_SECRET: 'short', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud' }, flags: { dataDir: tmp() } }),
  ) as ConfigError;
  t.type(err, ConfigError);
  t.equal(err.problems.length, 4);
  t.match(err.message, /port/);
  t.match(err.message, /jwtSecret: must be at least 32 characters/);
  t.match(err.message, /databaseUrl/);
  t.match(err.message, /logLevel/);
});

t.test('a missing or broken config file is a problem', async (t) => {
  t.throws(() => loadConfig({ file: '/nonexistent/jvai.json', env: {}, flags: { dataDir: tmp() } }), /does not exist/);
  const bad = path.join(tmp(), 'bad.json');
  fs.writeFileSync(bad, '{ nope');
  t.throws(() => loadConfig({ file: bad, env: {}, flags: { dataDir: tmp() } }), /bad\.json/);
});

t.test('the per-user sending budget: defaults, environment, validation', async (t) => {
  const defaults = loadConfig({ file: false, env: {}, flags: { dataDir: tmp() } });
  t.match(defaults, { sendRateLimit: 5, sendBurst: 30 });
  t.match(loadConfig({ file: false, env: { SEND_RATE_LIMIT: '2', SEND_BURST: '0' }, flags: { dataDir: tmp() } }), { sendRateLimit: 2, sendBurst: 0 });
  const err = t.throws(() => loadConfig({ file: false, env: { SEND_RATE_LIMIT: '0', SEND_BURST: 'lots' }, flags: { dataDir: tmp() } })) as ConfigError;
  t.equal(err.problems.length, 2);
  t.match(err.message, /sendRateLimit/);
  t.match(err.message, /sendBurst/);
});

t.test('trustProxy, corsOrigins and the timeouts: parsed from the environment, checked', async (t) => {
  const load = (env: Record<string, string>) => loadConfig({ file: false, env, flags: { dataDir: tmp() } });
  const defaults = load({});
  t.equal(defaults.trustProxy, false, 'no proxy is trusted by default');
  t.same(defaults.corsOrigins, [], 'no CORS by default');
  t.match(defaults, { requestTimeoutSeconds: 120, headersTimeoutSeconds: 20, shutdownTimeoutSeconds: 15, loginFailureLimit: 10, loginFailureWindowSeconds: 900 });
  t.equal(load({ TRUST_PROXY: 'false' }).trustProxy, false);
  t.equal(load({ TRUST_PROXY: '0' }).trustProxy, false);
  t.equal(load({ TRUST_PROXY: '2' }).trustProxy, 2);
  t.same(load({ TRUST_PROXY: 'loopback, 10.0.0.0/8 ,::1' }).trustProxy, ['loopback', '10.0.0.0/8', '::1']);
  t.same(load({ CORS_ORIGINS: 'https://app.example, http://localhost:5173' }).corsOrigins, ['https://app.example', 'http://localhost:5173']);
  const err = t.throws(() =>
    load({ TRUST_PROXY: 'my-proxy.example', CORS_ORIGINS: 'https://app.example/path', REQUEST_TIMEOUT: '5', HEADERS_TIMEOUT: '10', SHUTDOWN_TIMEOUT: '-1' }),
  ) as ConfigError;
  t.equal(err.problems.length, 4, err.message);
  t.match(err.message, /trustProxy/);
  t.match(err.message, /corsOrigins/);
  t.match(err.message, /headersTimeoutSeconds: must not exceed requestTimeoutSeconds/);
  t.match(err.message, /shutdownTimeoutSeconds/);
});

t.test('an in-memory SQLite database is refused: the read connections could not share it', async (t) => {
  const err = t.throws(() => loadConfig({ file: false, env: { DATABASE_URL: 'sqlite::memory:' }, flags: { dataDir: tmp() } })) as ConfigError;
  t.match(err.message, /databaseUrl: an in-memory SQLite database cannot be shared/);
  t.equal(loadConfig({ file: false, env: { DATABASE_URL: 'sqlite:///tmp/jvai-test.sqlite3' }, flags: { dataDir: tmp() } }).databaseUrl, 'sqlite:///tmp/jvai-test.sqlite3');
});
