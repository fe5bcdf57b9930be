/** `jvai serve` as a user runs it: the compiled CLI (`npm run build` first) in a child process. */
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

const BIN = path.resolve('bin/jvai.js');

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts `jvai serve` on 127.0.0.1:port and resolves once it listens (rejects with its output if it exits). */
export function serve(dataDir: string, port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir], {
    env: { ...process.env, LOG_LEVEL: 'info', AUTH_RATE_LIMIT: '1000', SEND_RATE_LIMIT: '10000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onExit = (code: number | null) => reject(new Error(`serve exited ${code}: ${out}`));
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('jvai listening')) {
        child.off('exit', onExit);
        resolve(child);
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', onExit);
  });
}

/** Resolves with the exit code (null when killed by a signal); at once if it already exited. */
export const exited = (child: ChildProcess) =>
  new Promise<number | null>((r) => (child.exitCode !== null || child.signalCode !== null ? r(child.exitCode) : child.once('exit', (code) => r(code))));

export { BIN };

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI to completion; stdin gets `input` and is then closed, as a pipe would be. */
export function runJvai(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string; input?: string }): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
