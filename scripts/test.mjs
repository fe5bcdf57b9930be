#!/usr/bin/env node
// `npm test`: the suite on SQLite, then on PostgreSQL — both always run, and the run fails if either did.
import { spawnSync } from 'node:child_process';

const run = (args) => spawnSync('npm', ['run', '--silent', ...args], { stdio: 'inherit' }).status ?? 1;
const results = { sqlite: run(['test:sqlite']), postgresql: run(['test:pg']) };
const failed = Object.entries(results).filter(([, status]) => status !== 0).map(([name]) => name);
console.log(failed.length ? `\nFAILED on ${failed.join(' and ')}` : '\nboth passes (SQLite, PostgreSQL) succeeded');
process.exit(failed.length ? 1 : 0);
