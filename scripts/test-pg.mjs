#!/usr/bin/env node
// Runs the whole suite again on PostgreSQL. Required in CI (CI=true or JVAI_REQUIRE_PG=1);
// elsewhere, a machine without PostgreSQL gets a loud notice instead of a failure.
import { spawnSync } from 'node:child_process';
import pg from 'pg';

const url = process.env.JVAI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const required = process.env.CI === 'true' || process.env.JVAI_REQUIRE_PG === '1';
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
try {
  await client.connect();
  await client.end();
} catch (err) {
  const msg = `PostgreSQL at ${url} is not reachable (${err.message}).`;
  if (required) {
    console.error(`${msg} The PostgreSQL run is required here.`);
    process.exit(1);
  }
  console.warn(`\n*** SKIPPED the PostgreSQL run: ${msg}\n*** Set JVAI_TEST_DATABASE_URL to run it.\n`);
  process.exit(0);
}
console.log(`\n=== Running the suite on PostgreSQL (${url}) ===\n`);
const res = spawnSync('npx', ['tap', ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, JVAI_TEST_DATABASE_URL: url } });
process.exit(res.status ?? 1);
