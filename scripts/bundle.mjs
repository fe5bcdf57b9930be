#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/index.js, from tsc) and the migrations into dist/bundle/:
// one file per part the CLI imports lazily, and shared chunks. Node 20 has no compile cache, and
// `jvai serve` spent most of its start resolving, reading and wrapping ~1,000 files one by one;
// bundled it reads ~70 (see bench/HISTORY.md, Dec 6 (seventh session)).
//
// A package stays outside (loaded from node_modules as usual) when it has native code, or when
// code outside the bundle must share it (Sequelize loads pg by name). Code that finds its own files
// by `__dirname`/`__filename` would break in a bundle: the build fails when bundled code uses them,
// except in the places listed below that jvai never reaches, so a dependency update that starts to
// cannot break the server at run time.
import fs from 'node:fs';
import { build } from 'esbuild';

const EXTERNAL = [
  // native code
  'argon2',
  'better-sqlite3',
  'sharp',
  '@roamhq/wrtc',
  'bufferutil',
  'utf-8-validate',
  // loaded by name by Sequelize, so our own imports must find that copy too
  'pg',
  'pg-hstore',
  'pg-native',
  'sqlite3',
  // ink imports its optional devtools, which are not installed; react goes with it (one copy)
  'ink',
  'react',
  // finds its package.json through __dirname when it loads
  'ioredis',
  // CommonJS imported lazily: import() of a bundled CommonJS module keeps only its default export
  // (checked below), and what loads only when needed costs no start anyway
  'umzug',
  '@zxcvbn-ts/language-common',
  'cli-progress',
];

/** Bundled packages whose `__dirname`/`__filename` code jvai never runs, and why. */
const UNREACHED_DIRNAME = {
  'socket.io': 'serves its browser client from its files: jvai sets serveClient: false',
  pino: 'starts transports from its files: jvai logs to stdout without one',
  'thread-stream': "pino's transports' worker thread",
};

const MARKER = '__jvai_bundle_has_no_dirname__';
const OUT = 'dist/bundle';

/**
 * What both builds share. The bundle written is whitespace-minified (comments go too): ~40% fewer
 * bytes to read and parse at every start, and our comments' non-ASCII characters no longer make
 * whole chunks two-byte strings. The checks below read an unminified build held in memory,
 * where every bundled module starts with a `// node_modules/<package>/…` (or `// dist/…`) line.
 */
const options = {
  // Migrations are entry points too: they share the server's modules (and its registry of open
  // databases) instead of loading second copies from dist/src.
  entryPoints: ['dist/cli/index.js', ...fs.readdirSync('dist/migrations').filter((f) => f.endsWith('.js')).map((f) => `dist/migrations/${f}`)],
  outbase: 'dist',
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  define: { __dirname: MARKER, __filename: MARKER },
  // Sequelize asks moment-timezone only whether its timezone ('+00:00', an offset) is a zone
  // name: the build without the zone database answers the same, and loading that database (~750 KB)
  // was ~30 ms of every start.
  alias: { 'moment-timezone': 'moment-timezone/moment-timezone.js' },
  // Bundled CommonJS packages `require` Node's own modules.
  banner: { js: "import { createRequire as __jvaiCreateRequire } from 'node:module'; const require = __jvaiCreateRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
};

const checked = await build({ ...options, write: false });
if (checked.errors.length) process.exit(1);

const offenders = new Set();
for (const file of checked.outputFiles.filter((f) => f.path.endsWith('.js'))) {
  let where = '';
  for (const line of file.text.split('\n')) {
    const start = /^\/\/ (?:node_modules\/((?:@[^/]+\/)?[^/]+)|(\S+))/.exec(line);
    if (start) where = start[1] ?? start[2];
    else if (line.includes(MARKER) && !(where in UNREACHED_DIRNAME)) offenders.add(where);
  }
}
if (offenders.size) {
  console.error(`bundle: ${[...offenders].join(', ')} use __dirname or __filename: add them to EXTERNAL in scripts/bundle.mjs`);
  process.exit(1);
}

// `import('x')` of a bundled CommonJS module yields only `default`, where Node gives named exports too.
const { inputs } = checked.metafile;
const lazyCommonJs = Object.values(inputs).flatMap((input) =>
  input.imports.filter((i) => i.kind === 'dynamic-import' && !i.external && inputs[i.path]?.format === 'cjs').map((i) => i.original ?? i.path),
);
if (lazyCommonJs.length) {
  console.error(`bundle: ${lazyCommonJs.join(', ')}: CommonJS imported with import(): add to EXTERNAL in scripts/bundle.mjs`);
  process.exit(1);
}

fs.rmSync(OUT, { recursive: true, force: true });
const written = await build({
  ...options,
  minifyWhitespace: true,
  // Composed with tsc's maps: `node --enable-source-maps` shows TypeScript lines in stack traces.
  sourcemap: 'linked',
  metafile: false,
});
if (written.errors.length) process.exit(1);
