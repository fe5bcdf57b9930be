/**
 * The logged-in session of the terminal client: one JSON file holding the server URL and
 * the token pair. It holds credentials, so it is private to the user (file 0600, dir 0700)
 * and replaced atomically, so a crash or a concurrent command never leaves half a file.
 * Beside it, `server.json` remembers the last server logged in to, which outlives the session
 * (logout, expiry), so the next `jvai login` goes back there by default.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import type { TokenPair } from './types.js';

export interface Session extends TokenPair {
  server: string;
  username: string;
}

/** `$JVAI_CONFIG_DIR`, else `$XDG_CONFIG_HOME/jvai`, else `~/.config/jvai`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JVAI_CONFIG_DIR) return path.resolve(env.JVAI_CONFIG_DIR);
  if (env.XDG_CONFIG_HOME) return path.join(path.resolve(env.XDG_CONFIG_HOME), 'jvai');
  return path.join(os.homedir(), '.config', 'jvai');
}

export class SessionError extends Error {}

const isSession = (v: unknown): v is Session =>
  typeof v === 'object' && v !== null && ['server', 'username', 'access', 'refresh'].every((k) => typeof (v as Record<string, unknown>)[k] === 'string');

export class SessionStore {
  readonly file: string;
  readonly serverFile: string;

  constructor(readonly dir: string = configDir()) {
    this.file = path.join(dir, 'session.json');
    this.serverFile = path.join(dir, 'server.json');
  }

  /** The server of the last login or registration (remembered on its own, so it survives logout), or null. */
  async lastServer(): Promise<string | null> {
    try {
      const { server } = JSON.parse(await fs.readFile(this.serverFile, 'utf8')) as { server?: unknown };
      if (typeof server === 'string') return server;
    } catch {
      // Never written, or damaged: the session file may still know.
    }
    return (await this.load().catch(() => null))?.server ?? null;
  }

  /** The stored session, or null when nobody is logged in. */
  async load(): Promise<Session | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SessionError(`cannot read ${this.file}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    if (!isSession(parsed)) throw new SessionError(`${this.file} is damaged: run \`jvai login\` again`);
    return { server: parsed.server, username: parsed.username, access: parsed.access, refresh: parsed.refresh };
  }

  async save(session: Session): Promise<void> {
    await this.write(this.file, session);
  }

  /** Remembers the server a session was started on (see lastServer). */
  async rememberServer(server: string): Promise<void> {
    await this.write(this.serverFile, { server });
  }

  private async write(file: string, data: object): Promise<void> {
    // `mode` applies only to directories mkdir creates: an existing (maybe shared) dir is left alone.
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = path.join(this.dir, `.${path.basename(file, '.json')}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
    try {
      await fs.writeFile(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }

  async clear(): Promise<void> {
    await fs.rm(this.file, { force: true });
  }
}
