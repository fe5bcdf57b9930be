#!/usr/bin/env node
// Runs the bundled CLI (built by `npm install` through the prepare script: scripts/bundle.mjs).
// argon2, image resizing, file I/O and the SQLite writer's WAL sync share libuv's thread pool
// (4 by default): read it before anything uses the pool.
process.env.UV_THREADPOOL_SIZE ??= '8';
import('../dist/bundle/cli/index.js').then(({ main }) => main(process.argv)).catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bundle')) {
    console.error('jvai: not built yet: run `npm run build` (npm install does it)');
  } else {
    console.error(`jvai: ${err?.message ? err.message : err}`);
  }
  process.exit(1);
});
