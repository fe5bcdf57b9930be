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

fs.rmSync(OUT, { recursive: true, force: true });
const result = await build({
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
  // Bundled CommonJS packages `require` Node's own modules.
  banner: { js: "import { createRequire as __jvaiCreateRequire } from 'node:module'; const require = __jvaiCreateRequire(import.meta.url);" },
  // Composed with tsc's maps: `node --enable-source-maps` shows TypeScript lines in stack traces.
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
if (result.errors.length) process.exit(1);

// Each bundled module starts with a `// node_modules/<package>/…` (or `// dist/…`) comment line.
const offenders = new Set();
for (const file of fs.readdirSync(OUT, { recursive: true }).filter((f) => f.endsWith('.js'))) {
  let where = '';
  for (const line of fs.readFileSync(`${OUT}/${file}`, 'utf8').split('\n')) {
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
const { inputs } = result.metafile;
const lazyCommonJs = Object.values(inputs).flatMap((input) =>
  input.imports.filter((i) => i.kind === 'dynamic-import' && !i.external && inputs[i.path]?.format === 'cjs').map((i) => i.original ?? i.path),
);
if (lazyCommonJs.length) {
  console.error(`bundle: ${lazyCommonJs.join(', ')}: CommonJS imported with import(): add to EXTERNAL in scripts/bundle.mjs`);
  process.exit(1);
}
