/** A tiny HTTP client for tests: `api.as(user).post('/api/posts/', body)`. */
import crypto from 'node:crypto';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Sees every response a client (and every client made from it with `as`) receives. */
export type ResponseObserver = (method: string, path: string, res: ApiResponse) => void;

export class Api {
  constructor(readonly base: string, readonly token?: string, readonly observe?: ResponseObserver) {}

  /** The same client acting as a user (or with a raw token). */
  as(who: { access: string } | string | undefined): Api {
    return new Api(this.base, typeof who === 'string' || who === undefined ? who : who.access, this.observe);
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const init: RequestInit & { headers: Record<string, string> } = { method, headers: { ...headers } };
    if (this.token) init.headers.Authorization = `Bearer ${this.token}`;
    if (body instanceof FormData) init.body = body;
    else if (typeof body === 'string') init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    const res = await fetch(this.base + path, init);
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    else if (!text) parsed = null;
    const result = { status: res.status, body: parsed as T, headers: res.headers };
    this.observe?.(method, path, result);
    return result;
  }

  get<T = any>(path: string) { return this.request<T>('GET', path); }
  post<T = any>(path: string, body?: unknown) { return this.request<T>('POST', path, body); }
  put<T = any>(path: string, body?: unknown) { return this.request<T>('PUT', path, body); }
  patch<T = any>(path: string, body?: unknown) { return this.request<T>('PATCH', path, body); }
  delete<T = any>(path: string) { return this.request<T>('DELETE', path); }
}

export interface TestUser {
  id: number;
  username: string;
  email: string;
  password: string;
  access: string;
  refresh: string;
  /** The API client acting as this user. */
  api: Api;
}

let counter = 0;

/** Registers a user through the real endpoint. */
/** `headers` go with the registration (a made-up client address keeps it out of loopback's auth budget). */
export async function makeUser(api: Api, overrides: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<TestUser> {
  const n = `${process.pid}${++counter}${crypto.randomBytes(2).toString('hex')}`;
  const password = overrides.password ?? 'Corr3ct-Horse-Battery';
  const body = { username: `user${n}`, email: `user${n}@example.com`, password, password_confirm: password, first_name: 'Test', last_name: `User${n}`, ...overrides };
  const res = await api.request('POST', '/api/users/register/', body, headers);
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  const { user, access, refresh } = res.body;
  return { id: user.id, username: user.username, email: body.email, password, access, refresh, api: api.as(access) };
}
