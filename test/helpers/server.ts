/**
 * Test servers: a real jvai server on a free port with its own database — a temp SQLite
 * file by default, or a fresh PostgreSQL database when JVAI_TEST_DATABASE_URL is set.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import type { Test } from 'tap';
import { loadConfig, type Config, type ConfigInput } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createLogger } from '../../src/logger.js';
import type { Logger } from 'pino';
import type { WsTransportOptions } from '../../src/realtime/ws.js';

export const PG_URL = process.env.JVAI_TEST_DATABASE_URL;

/** Creates a throwaway PostgreSQL database next to the one in PG_URL; returns its URL and a dropper. */
export async function createPgDatabase(baseUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `jvai_t_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestServer extends RunningServer {
  dataDir: string;
}

/**
 * A test server's configuration: its own data dir and (in the PostgreSQL pass) its own database,
 * and limits that tests of other things never hit. `cleanup` drops both; call it after the
 * servers using them have closed.
 */
async function testConfig(overrides: ConfigInput = {}): Promise<{ config: Config; dataDir: string; cleanup: () => Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-test-'));
  const db = PG_URL ? await createPgDatabase(PG_URL) : null;
  const config = loadConfig({
    env: {},
    file: false,
    flags: {
      host: '127.0.0.1',
      port: 0,
      dataDir,
      databaseUrl: db?.url,
      logLevel: 'silent',
      authRateLimit: 10_000,
      // Tests of other things send in bursts; test/flood.test.ts sets a low budget.
      sendRateLimit: 10_000,
      sendBurst: 100_000,
      jwtSecret: crypto.randomBytes(32).toString('hex'),
      ...overrides,
    },
  });
  const cleanup = async () => {
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  return { config, dataDir, cleanup };
}

/**
 * `realtime` tunes the WebSocket transport's limits (heartbeat interval, buffers) for tests of
 * them; `logger` receives the server's logs (silent by default).
 */
export async function startTestServer(t: Test, overrides: ConfigInput = {}, realtime: Partial<WsTransportOptions> = {}, logger?: Logger): Promise<TestServer> {
  const [server] = await startTestServers(t, 1, overrides, realtime, logger);
  return server!;
}

/**
 * Several servers on one database and data dir, as several processes would be. A process has
 * one database open at a time (src/models/index.ts): servers that run together share theirs,
 * and a test that wants another database closes the server it is done with first.
 */
export async function startTestServers(t: Test, count: number, overrides: ConfigInput = {}, realtime: Partial<WsTransportOptions> = {}, logger?: Logger): Promise<TestServer[]> {
  const { config, dataDir, cleanup } = await testConfig(overrides);
  const servers: TestServer[] = [];
  t.teardown(async () => {
    for (const server of servers) await server.close();
    await cleanup();
  });
  for (let i = 0; i < count; i++) servers.push({ ...(await startServer(config, logger ?? createLogger(config), realtime)), dataDir });
  return servers;
}

/** Whether PostgreSQL answers at url; in CI (or with JVAI_REQUIRE_PG=1) its absence is a failure, elsewhere a loud skip. */
export async function pgAvailable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    if (process.env.CI === 'true' || process.env.JVAI_REQUIRE_PG === '1') throw new Error(`PostgreSQL at ${url} is required in CI but not reachable`);
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
