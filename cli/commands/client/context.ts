/**
 * What a client command's action works with: output (JSON or readable), prompts, the
 * session store and, for a logged-in user, an API client whose refreshed tokens are
 * written back to the session file. Loaded lazily by ./action.ts.
 */
import { DEFAULT_SERVER, JvaiClient, uploadFromFile, type Upload, type UserRef } from '../../client/api.js';
import { SessionError, SessionStore, type Session } from '../../client/session.js';
import * as fmt from '../../client/format.js';
import * as prompt from '../../client/prompt.js';
import { UsageError } from './action.js';

export interface ClientContext {
  json: boolean;
  store: SessionStore;
  fmt: typeof fmt;
  prompt: typeof prompt;
  /** The command's options, typed by the caller. */
  opts<O>(): O;
  /** With `--json` the API's JSON (only that, on stdout); otherwise the readable rendering. */
  print(data: unknown, readable: () => string): void;
  /** A client for `server` (default `$JVAI_SERVER`, else the last server logged in to, else http://localhost:8000), not logged in yet. */
  connect(server?: string): Promise<JvaiClient>;
  upload(file: string): Promise<Upload>;
}

export interface SessionContext extends ClientContext {
  session: Session;
  api: JvaiClient;
  /** The logged-in user's id. */
  me: number;
  /** A `<user>` argument: a numeric id, or a username (`@` forces that reading, for numeric names). */
  userRef(arg: string): UserRef;
  /** A `<user>` argument as an id; usernames are looked up through the API. */
  userId(arg: string): Promise<number>;
}

function serverUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server must be a URL such as ${DEFAULT_SERVER}, got "${server}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--server must be an http or https URL, got "${server}"`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export function clientContext(opts: Record<string, unknown>): ClientContext {
  const json = Boolean(opts.json);
  const store = new SessionStore();
  return {
    json,
    store,
    fmt,
    prompt,
    opts: <O>() => opts as O,
    print(data, readable) {
      process.stdout.write(json ? `${JSON.stringify(data ?? null, null, 2)}\n` : `${readable()}\n`);
    },
    connect: async (server) => new JvaiClient({ server: serverUrl(server ?? process.env.JVAI_SERVER ?? (await store.lastServer()) ?? DEFAULT_SERVER) }),
    upload: uploadFromFile,
  };
}

export async function sessionContext(opts: Record<string, unknown>): Promise<SessionContext> {
  const base = clientContext(opts);
  const stored = await base.store.load();
  if (!stored) throw new Error('not logged in: run `jvai login`');
  let session = stored;
  const api = new JvaiClient({
    server: session.server,
    tokens: session,
    onTokens: async (tokens) => {
      // Refresh tokens are single-use: the rotated pair must reach the file before the next command runs.
      session = { ...session, ...tokens };
      await base.store.save(session);
    },
  });
  const me = api.userId;
  if (me === null) throw new SessionError(`${base.store.file} is damaged: run \`jvai login\` again`);
  const userRef = (arg: string): UserRef => {
    const name = arg.trim();
    if (/^\d+$/.test(name)) return { id: Number(name) };
    return { username: name.replace(/^@/, '') };
  };
  return {
    ...base,
    get session() {
      return session;
    },
    api,
    me,
    userRef,
    async userId(arg) {
      const ref = userRef(arg);
      if ('id' in ref) return ref.id;
      const user = await api.findUser(ref.username);
      if (!user) throw new Error(`no user named "${ref.username}"`);
      return user.id;
    },
  };
}
