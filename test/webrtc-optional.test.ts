/**
 * node-webrtc is an optional dependency. The server and the non-call commands never load it;
 * without it, a call stops before anything rings, with one clear line and exit code 1. A
 * module-resolution hook in the child processes makes the package unresolvable, exactly as
 * when it is not installed, and records every attempt to load it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { Api, makeUser } from './helpers/api.js';
import { PG_URL, createPgDatabase } from './helpers/server.js';
import { freePort, runJvai, serve } from './helpers/serve.js';
import { sessionDir } from './helpers/terminal.js';
import { loadWebRtc, WebRtcUnavailable, webRtcLoaded, type Wrtc } from '../cli/call/webrtc.js';
import { exitWhenDone } from './helpers/webrtc.js';

// The shape check loads node-webrtc in this process.
exitWhenDone();

const MISSING = 'jvai: calls need the optional package @roamhq/wrtc (npm install @roamhq/wrtc)\n';

const HOOKS = `
import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier === '@roamhq/wrtc' || specifier.startsWith('@roamhq/wrtc/')) {
    fs.appendFileSync(process.env.JVAI_WRTC_PROBE, specifier + '\\n');
    throw Object.assign(new Error("Cannot find package '" + specifier + "'"), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  return next(specifier, context);
}
`;

/** An environment in which @roamhq/wrtc cannot be found; attempts to load it land in `probe`. */
function withoutWrtc(t: Test) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-nowrtc-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'hooks.mjs'), HOOKS);
  fs.writeFileSync(path.join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
  const probe = path.join(dir, 'probe.log');
  const env = { NODE_OPTIONS: `--import=${path.join(dir, 'register.mjs')}`, JVAI_WRTC_PROBE: probe };
  return { env, attempts: () => (fs.existsSync(probe) ? fs.readFileSync(probe, 'utf8') : '') };
}

// jvai declares the part of node-webrtc it uses (so building needs no optional package); the
// typecheck of this file fails if the installed package no longer fits that declaration.
const packageFits: typeof import('@roamhq/wrtc') extends Wrtc ? true : false = true;

t.test('the installed @roamhq/wrtc fits the shape calls use', async (t) => {
  t.ok(packageFits);
});

t.test('loadWebRtc: a package that cannot be loaded is a clear error, and nothing counts as loaded', async (t) => {
  const err = await loadWebRtc('@roamhq/wrtc-not-installed').catch((e: unknown) => e);
  t.type(err, WebRtcUnavailable);
  t.equal((err as Error).message, MISSING.slice('jvai: '.length, -1));
  t.match(((err as Error).cause as Error).message, /Cannot find .*@roamhq\/wrtc-not-installed/, 'the loader error is kept as the cause');
  t.notOk(webRtcLoaded(), 'a failed load leaves no native module to tear down');
});

t.test('without @roamhq/wrtc: serve and the other commands work, calls say what is missing', async (t) => {
  const { env: noWrtc, attempts } = withoutWrtc(t);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-nowrtc-serve-'));
  const db = PG_URL ? await createPgDatabase(PG_URL) : null;
  t.teardown(async () => {
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  const port = await freePort();
  const server = await serve(dataDir, port, { ...noWrtc, ...(db ? { DATABASE_URL: db.url } : {}) });
  t.teardown(() => void server.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  const api = new Api(url);
  const alice = await makeUser(api);
  const bob = await makeUser(api);
  t.equal((await alice.api.get('/api/calls/ice-servers/')).status, 200, 'the server serves the call API');

  const cliEnv = (): NodeJS.ProcessEnv => ({ ...process.env, ...noWrtc, JVAI_CONFIG_DIR: sessionDir(t, url, alice), NO_COLOR: '1', PATH: path.dirname(process.execPath) });
  const whoami = await runJvai(['whoami'], { env: cliEnv() });
  t.equal(whoami.code, 0, whoami.stderr);
  t.match(whoami.stdout, alice.username);

  const call = await runJvai(['call', bob.username], { env: cliEnv() });
  t.equal(call.code, 1);
  t.equal(call.stderr, MISSING);
  t.equal(call.stdout, '');
  t.same((await bob.api.get('/api/calls/')).body, [], 'nothing rang: no call was placed');

  const answer = await runJvai(['answer', '--timeout', '60'], { env: cliEnv() });
  t.equal(answer.code, 1, 'answer fails at once instead of waiting for a call it cannot take');
  t.equal(answer.stderr, MISSING);

  t.equal(attempts(), '@roamhq/wrtc\n@roamhq/wrtc\n', 'only the two call commands tried to load it; the server never did');
  t.equal(server.exitCode, null, 'the server is still up');
});
