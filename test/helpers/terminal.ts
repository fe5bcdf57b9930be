/**
 * The compiled `jvai` CLI as a long-running child (a call in progress), logged in as a test
 * user through its own session file. `waitFor` watches its output for a line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Test } from 'tap';
import type { TestUser } from './api.js';

const BIN = path.resolve('bin/jvai.js');

export interface CliProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when stdout matches (rejects after `ms`, with what was printed). */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  /** Resolves with the exit code once the process ends (rejects after `ms`). */
  exited(ms?: number): Promise<number | null>;
}

/** A config dir holding a session for `user` on `server`, as `jvai login` would leave it. */
export function sessionDir(t: Test, server: string, user: TestUser): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jvai-term-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'session.json'), JSON.stringify({ server, username: user.username, access: user.access, refresh: user.refresh }), { mode: 0o600 });
  return dir;
}

export function runCli(t: Test, configDir: string, args: string[]): CliProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, JVAI_CONFIG_DIR: configDir, NO_COLOR: '1' };
  // tap preloads its process tracker through NODE_OPTIONS; the compiled CLI needs none of it.
  delete env.NODE_OPTIONS;
  // No sound tools for children: each test says where audio comes from and goes to.
  env.PATH = path.dirname(process.execPath);
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout!.on('data', (d) => {
    stdout += d;
    for (const w of watchers) w();
  });
  child.stderr!.on('data', (d) => (stderr += d));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const describe = () => `stdout: ${JSON.stringify(stdout)} stderr: ${JSON.stringify(stderr)}`;
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitFor(pattern, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(stdout)) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`jvai ${args[0]}: no ${pattern} within ${ms} ms; ${describe()}`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
        void exit.then(() => setTimeout(() => {
          if (!watchers.has(check)) return;
          cleanup();
          reject(new Error(`jvai ${args[0]} exited before printing ${pattern}; ${describe()}`));
        }, 50));
      });
    },
    exited(ms = 30_000) {
      let timer: NodeJS.Timeout;
      return Promise.race([
        exit.finally(() => clearTimeout(timer)),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`jvai ${args[0]} did not exit within ${ms} ms; ${describe()}`)), ms))),
      ]);
    },
  };
}
