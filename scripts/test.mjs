#!/usr/bin/env node
// `npm test`: the suite on SQLite, then on PostgreSQL — both always run, and the run fails if either did.
// What failed is repeated at the very end: a CI log is often read only from its tail.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

/** Runs `npm run <script>`, echoing its output; resolves to its exit status and its failures' lines. */
function run(script) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '--silent', script], { stdio: ['inherit', 'pipe', 'inherit'] });
    const failures = [];
    // A failing assertion's `not ok` line and the YAML block that explains it (up to its `...`).
    let inFailure = false;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      if (/^\s*not ok /.test(line)) inFailure = true;
      if (inFailure && failures.length < 400) failures.push(line);
      if (inFailure && /^\s*\.\.\.\s*$/.test(line)) inFailure = false;
    });
    child.on('close', (status) => resolve({ status: status ?? 1, failures }));
  });
}

const results = { sqlite: await run('test:sqlite'), postgresql: await run('test:pg') };
const failed = Object.entries(results).filter(([, r]) => r.status !== 0);
for (const [name, { failures }] of failed) console.log(`\n--- what failed on ${name} ---\n${failures.join('\n') || '(no failing assertion was printed: see the log above)'}`);
console.log(failed.length ? `\nFAILED on ${failed.map(([name]) => name).join(' and ')}` : '\nboth passes (SQLite, PostgreSQL) succeeded');
process.exit(failed.length ? 1 : 0);
