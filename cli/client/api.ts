/**
 * The one typed client of the jvai REST API, shared by the scriptable commands and the TUI.
 * Plain `fetch`; errors come back as `ApiError` (HTTP answers, worded by ./errors.ts) or
 * `ConnectionError` (no answer), both with a one-line message fit for a terminal. A 401 on an authenticated call
 * refreshes the token pair once and retries; `onTokens` lets the caller store the new pair.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type {
  AuthResponse,
  Call,
  Comment,
  Conversation,
  DirectMessage,
  Group,
  GroupMember,
  GroupMessage,
  LikeResponse,
  MessageResponse,
  Post,
  TokenPair,
  User,
} from './types.js';
import { describeApiError } from './errors.js';

export const DEFAULT_SERVER = 'http://localhost:8000';

/** The server answered with an error status; `body` is what it sent (DRF shapes). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The refresh token was refused (expired, revoked or already spent): only a new login helps. */
export class SessionExpiredError extends ApiError {
  constructor(body: unknown) {
    super(401, body, 'your session has expired or was revoked: run `jvai login`');
    this.name = 'SessionExpiredError';
  }
}

/** No HTTP answer at all: refused connection, unknown host, timeout. */
export class ConnectionError extends Error {
  constructor(
    readonly server: string,
    reason: string,
  ) {
    super(`cannot reach the server at ${server} (${reason})`);
    this.name = 'ConnectionError';
  }
}

/** A file to upload as a multipart field. */
export interface Upload {
  bytes: Uint8Array;
  name: string;
  type: string;
}

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

/** Reads a local file for upload; the server checks what the bytes really are. */
export async function uploadFromFile(file: string): Promise<Upload> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return { bytes, name: path.basename(file), type: IMAGE_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' };
}

/** A user named by id or by username. */
export type UserRef = { id: number } | { username: string };

export type CallList = 'all' | 'history' | 'active' | 'missed';

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  first_name?: string;
  last_name?: string;
}

export interface ClientOptions {
  server: string;
  tokens?: TokenPair | null;
  /** Called whenever the token pair changes (login, register, refresh), so it can be stored. */
  onTokens?: (tokens: TokenPair) => void | Promise<void>;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  /** A JSON body; a function is evaluated per attempt (so a retry after refresh sees new tokens). */
  json?: unknown;
  form?: Record<string, string | Upload | undefined>;
  /** Send the access token and refresh on 401 (default true). */
  auth?: boolean;
}

interface Answer<T> {
  body: T;
  headers: Headers;
}

/** One page of a list plus the URL of the next one (from the `Link: rel="next"` header). */
export interface Page<T> {
  items: T[];
  next: string | null;
}

/** The id the access token was issued to (simplejwt's `user_id` claim); read, not verified: the server does that. */
export function tokenUserId(access: string): number | null {
  try {
    const claims = JSON.parse(Buffer.from(access.split('.')[1] ?? '', 'base64url').toString('utf8')) as { user_id?: unknown };
    return typeof claims.user_id === 'number' ? claims.user_id : null;
  } catch {
    return null;
  }
}

const nextLink = (headers: Headers): string | null => /<([^>]+)>\s*;\s*rel="next"/.exec(headers.get('link') ?? '')?.[1] ?? null;

export class JvaiClient {
  readonly server: string;
  private tokenPair: TokenPair | null;
  private refreshing: Promise<TokenPair> | null = null;
  private readonly onTokens?: ClientOptions['onTokens'];
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    this.server = options.server.replace(/\/+$/, '');
    this.tokenPair = options.tokens ?? null;
    this.onTokens = options.onTokens;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get tokens(): TokenPair | null {
    return this.tokenPair;
  }

  /** The logged-in user's id, from the access token; null when logged out. */
  get userId(): number | null {
    return this.tokenPair ? tokenUserId(this.tokenPair.access) : null;
  }

  // ---- transport ----

  /** Any API call; `path` is under the server root (`/api/...`) or an absolute URL (a `next` link). */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.send<T>(method, path, options)).body;
  }

  private async send<T>(method: string, target: string, options: RequestOptions): Promise<Answer<T>> {
    const auth = options.auth !== false;
    const usedAccess = this.tokenPair?.access;
    let res = await this.fetch(method, target, options, auth);
    if (res.status === 401 && auth && this.tokenPair) {
      await this.refreshAfter(usedAccess);
      res = await this.fetch(method, target, options, auth);
    }
    const text = await res.text();
    let body: unknown = text || undefined;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (!res.ok) {
      // A body given as a function carries tokens (logout): never quoted in a message.
      const request = { method, url: new URL(res.url), body: typeof options.json === 'function' ? undefined : options.json };
      throw new ApiError(res.status, body, describeApiError(request, res.status, res.statusText, body));
    }
    return { body: body as T, headers: res.headers };
  }

  private async fetch(method: string, target: string, options: RequestOptions, auth: boolean): Promise<Response> {
    const url = new URL(/^https?:\/\//.test(target) ? target : this.server + target);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (auth && this.tokenPair) headers.Authorization = `Bearer ${this.tokenPair.access}`;
    let body: string | FormData | undefined;
    if (options.form) {
      body = new FormData();
      for (const [k, v] of Object.entries(options.form)) {
        if (typeof v === 'string') body.append(k, v);
        else if (v) body.append(k, new Blob([new Uint8Array(v.bytes)], { type: v.type }), v.name);
      }
    } else if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(typeof options.json === 'function' ? options.json() : options.json);
    }
    try {
      return await fetch(url, { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw this.connectionError(err);
    }
  }

  private connectionError(err: unknown): Error {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    if (e.name === 'TimeoutError') return new ConnectionError(this.server, `no answer within ${Math.round(this.timeoutMs / 1000)} s`);
    return new ConnectionError(this.server, e.cause?.code ?? e.cause?.message ?? e.message);
  }

  /**
   * Rotates the token pair after `usedAccess` was refused. Concurrent callers share one
   * refresh: refresh tokens are single-use, and presenting a spent one revokes the session.
   */
  private async refreshAfter(usedAccess: string | undefined): Promise<void> {
    if (this.tokenPair && this.tokenPair.access !== usedAccess) return;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    await this.refreshing;
  }

  /** POST /api/token/refresh/: a new access AND refresh token (the old refresh is spent). */
  async refresh(): Promise<TokenPair> {
    if (!this.tokenPair) throw new SessionExpiredError(null);
    let pair: TokenPair;
    try {
      pair = await this.request<TokenPair>('POST', '/api/token/refresh/', { json: { refresh: this.tokenPair.refresh }, auth: false });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw new SessionExpiredError(err.body);
      throw err;
    }
    await this.setTokens(pair);
    return pair;
  }

  private async setTokens(pair: TokenPair): Promise<void> {
    this.tokenPair = { access: pair.access, refresh: pair.refresh };
    await this.onTokens?.(this.tokenPair);
  }

  /** One page of a list endpoint. */
  async page<T>(path: string, query: Query = {}): Promise<Page<T>> {
    const { body, headers } = await this.send<T[]>('GET', path, { query });
    return { items: body, next: nextLink(headers) };
  }

  private async list<T>(path: string, query: Query = {}): Promise<T[]> {
    return (await this.page<T>(path, query)).items;
  }

  // ---- auth ----

  async register(input: RegisterInput): Promise<AuthResponse> {
    const res = await this.request<AuthResponse>('POST', '/api/users/register/', { json: { ...input, password_confirm: input.password }, auth: false });
    await this.setTokens(res);
    return res;
  }

  async login(username: string, password: string): Promise<AuthResponse> {
    const res = await this.request<AuthResponse>('POST', '/api/users/login/', { json: { username, password }, auth: false });
    await this.setTokens(res);
    return res;
  }

  /** Revokes the current refresh token's session on the server. */
  logout(): Promise<MessageResponse> {
    return this.request('POST', '/api/users/logout/', { json: () => ({ refresh: this.tokenPair?.refresh }) });
  }

  // ---- users ----

  me(): Promise<User> {
    return this.request('GET', '/api/users/me/');
  }

  users(options: { search?: string; limit?: number } = {}): Promise<User[]> {
    return this.list('/api/users/', { search: options.search, limit: options.limit });
  }

  user(id: number): Promise<User> {
    return this.request('GET', `/api/users/${id}/`);
  }

  /** The user with exactly this username (case-insensitive), or null; walks every page of the search. */
  async findUser(username: string): Promise<User | null> {
    const wanted = username.toLowerCase();
    let page = await this.page<User>('/api/users/', { search: username, limit: 200 });
    for (;;) {
      const hit = page.items.find((u) => u.username.toLowerCase() === wanted);
      if (hit) return hit;
      if (!page.next) return null;
      page = await this.page<User>(page.next);
    }
  }

  follow(id: number): Promise<MessageResponse> {
    return this.request('POST', `/api/users/${id}/follow/`);
  }

  unfollow(id: number): Promise<MessageResponse> {
    return this.request('POST', `/api/users/${id}/unfollow/`);
  }

  followers(id: number, limit?: number): Promise<User[]> {
    return this.list(`/api/users/${id}/followers/`, { limit });
  }

  following(id: number, limit?: number): Promise<User[]> {
    return this.list(`/api/users/${id}/following/`, { limit });
  }

  // ---- posts and comments ----

  posts(limit?: number): Promise<Post[]> {
    return this.list('/api/posts/', { limit });
  }

  feed(limit?: number): Promise<Post[]> {
    return this.list('/api/posts/feed/', { limit });
  }

  myPosts(limit?: number): Promise<Post[]> {
    return this.list('/api/posts/my_posts/', { limit });
  }

  post(id: number): Promise<Post> {
    return this.request('GET', `/api/posts/${id}/`);
  }

  createPost(input: { content?: string; image?: Upload }): Promise<Post> {
    if (input.image) return this.request('POST', '/api/posts/', { form: { content: input.content ?? '', image: input.image } });
    return this.request('POST', '/api/posts/', { json: { content: input.content ?? '' } });
  }

  updatePost(id: number, content: string): Promise<Post> {
    return this.request('PATCH', `/api/posts/${id}/`, { json: { content } });
  }

  deletePost(id: number): Promise<void> {
    return this.request('DELETE', `/api/posts/${id}/`);
  }

  likePost(id: number): Promise<LikeResponse> {
    return this.request('POST', `/api/posts/${id}/like/`);
  }

  createComment(postId: number, content: string): Promise<Comment> {
    return this.request('POST', '/api/comments/', { json: { post: postId, content } });
  }

  deleteComment(id: number): Promise<void> {
    return this.request('DELETE', `/api/comments/${id}/`);
  }

  likeComment(id: number): Promise<LikeResponse> {
    return this.request('POST', `/api/comments/${id}/like/`);
  }

  // ---- groups ----

  groups(limit?: number): Promise<Group[]> {
    return this.list('/api/groups/', { limit });
  }

  myGroups(limit?: number): Promise<Group[]> {
    return this.list('/api/groups/my_groups/', { limit });
  }

  group(id: number): Promise<Group> {
    return this.request('GET', `/api/groups/${id}/`);
  }

  createGroup(input: { name: string; description?: string; image?: Upload }): Promise<Group> {
    if (input.image) return this.request('POST', '/api/groups/', { form: { name: input.name, description: input.description, image: input.image } });
    return this.request('POST', '/api/groups/', { json: { name: input.name, description: input.description } });
  }

  joinGroup(id: number): Promise<MessageResponse> {
    return this.request('POST', `/api/groups/${id}/join/`);
  }

  leaveGroup(id: number): Promise<MessageResponse> {
    return this.request('POST', `/api/groups/${id}/leave/`);
  }

  groupMembers(id: number, limit?: number): Promise<GroupMember[]> {
    return this.list(`/api/groups/${id}/members/`, { limit });
  }

  /** A group's messages, newest first (as the API sends them). */
  groupMessages(groupId: number, limit?: number): Promise<GroupMessage[]> {
    return this.list('/api/group-messages/group_messages/', { group_id: groupId, limit });
  }

  sendGroupMessage(groupId: number, content: string): Promise<GroupMessage> {
    return this.request('POST', '/api/group-messages/', { json: { group: groupId, content } });
  }

  // ---- direct messages ----

  sendMessage(to: UserRef, content: string): Promise<DirectMessage> {
    const receiver = 'id' in to ? { receiver: to.id } : { receiver_username: to.username };
    return this.request('POST', '/api/messages/', { json: { ...receiver, content } });
  }

  conversations(limit?: number): Promise<Conversation[]> {
    return this.list('/api/messages/conversations/', { limit });
  }

  /** The conversation with one user, oldest first. */
  conversationWith(other: UserRef, limit?: number): Promise<DirectMessage[]> {
    const who = 'id' in other ? { user_id: other.id } : { username: other.username };
    return this.list('/api/messages/with_user/', { ...who, limit });
  }

  markRead(id: number): Promise<DirectMessage> {
    return this.request('POST', `/api/messages/${id}/mark_as_read/`);
  }

  // ---- calls ----

  calls(which: CallList = 'all', limit?: number): Promise<Call[]> {
    return this.list(which === 'all' ? '/api/calls/' : `/api/calls/${which}/`, { limit });
  }
}
