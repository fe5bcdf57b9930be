/**
 * Configuration, loaded once at boot and validated.
 * Precedence (lowest first): defaults < config/<NODE_ENV>.json (or --config FILE) < environment < flags.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';
import proxyAddr from 'proxy-addr';

export const iceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** "false" / "0" / "" → off; "2" → two hops; "loopback, 10.0.0.0/8" → those addresses. */
function readTrustProxy(value: unknown): unknown {
  if (typeof value === 'number') return value === 0 ? false : value;
  if (typeof value !== 'string') return value;
  const v = value.trim();
  if (v === '' || v === 'false' || v === 'off') return false;
  if (/^\d+$/.test(v)) return Number(v) === 0 ? false : Number(v);
  return v.split(',').map((a) => a.trim()).filter(Boolean);
}

const TRUST_PROXY_FORMS = 'must be false, a hop count (1-32), or proxy addresses/CIDRs (or loopback, linklocal, uniquelocal)';

const proxyList = z
  .array(z.string().min(1))
  .min(1)
  .refine(
    (list) => {
      try {
        proxyAddr.compile(list);
        return true;
      } catch {
        return false;
      }
    },
    { message: TRUST_PROXY_FORMS },
  );

/** Browser origins allowed to call the API cross-origin: "https://a.example, https://b.example". */
function readList(value: unknown): unknown {
  return typeof value === 'string' ? value.split(',').map((o) => o.trim()).filter(Boolean) : value;
}

const origin = z.string().refine(
  (o) => {
    try {
      return new URL(o).origin === o;
    } catch {
      return false;
    }
  },
  { message: 'must be an origin such as https://app.example (scheme, host, optional port; no path)' },
);

const seconds = (fallback: number) => z.coerce.number().positive().max(24 * 60 * 60).default(fallback);

const schema = z.object({
  /** Interface to bind. */
  host: z.string().min(1).default('0.0.0.0'),
  /** TCP port; 0 picks a free one (tests). */
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Where the SQLite file, uploaded media and the generated JWT secret live. */
  dataDir: z.string().min(1).default('./data'),
  /** postgres://… to use PostgreSQL; unset means SQLite in dataDir. */
  databaseUrl: z
    .string()
    .regex(/^(postgres|postgresql|sqlite):/, 'must start with postgres://, postgresql:// or sqlite:')
    // The read connections beside the writer must all open the same file.
    .refine((url) => !/^sqlite:(\/\/)?:memory:/.test(url), 'an in-memory SQLite database cannot be shared by several connections: give a file (sqlite:///path/db.sqlite3)')
    .optional(),
  /** redis://… to share the event bus and rate limits between processes. */
  redisUrl: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  /** Namespace of every Redis key and channel, so several deployments (or test runs) can share one Redis. */
  redisPrefix: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only (at most 64)').default('jvai'),
  /**
   * Seconds a process's presence registrations outlive its last heartbeat (Redis only). A process
   * that dies without closing (kill -9, power loss) has its users marked offline by the others
   * within about 4/3 of this.
   */
  presenceTtlSeconds: z.coerce.number().min(1).max(60).default(30),
  /** HMAC secret for JWTs (≥ 32 bytes). Generated into dataDir when unset. */
  jwtSecret: z.string().min(32, 'must be at least 32 characters').optional(),
  accessTokenTtlSeconds: z.coerce.number().int().positive().default(60 * 60),
  refreshTokenTtlSeconds: z.coerce.number().int().positive().default(7 * 24 * 60 * 60),
  /** Largest accepted upload in bytes. */
  mediaMaxBytes: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  /** Largest accepted image in pixels (width × height), against decompression bombs. */
  mediaMaxPixels: z.coerce.number().int().positive().default(40_000_000),
  /** Seconds a call may ring before it becomes missed. */
  ringTimeoutSeconds: z.coerce.number().positive().default(45),
  /** Attempts per window on login/register/token endpoints, per client address. */
  authRateLimit: z.coerce.number().int().positive().default(20),
  authRateWindowSeconds: z.coerce.number().int().positive().default(60),
  /**
   * Sends (DMs, group messages, posts, comments, calls) per second per user, sustained, over
   * REST and every socket together; shared through Redis when configured.
   */
  sendRateLimit: z.coerce.number().int().min(1).max(10_000).default(5),
  /** Extra sends per user per minute above sendRateLimit, for bursts. */
  sendBurst: z.coerce.number().int().min(0).max(100_000).default(30),
  /** Failed logins per account per window (any address): more → 429 until the window passes. */
  loginFailureLimit: z.coerce.number().int().positive().default(10),
  loginFailureWindowSeconds: z.coerce.number().int().positive().default(15 * 60),
  /**
   * Which reverse proxies' X-Forwarded-For/-Host/-Proto to believe: false (none: the default,
   * since anyone can send them), a hop count, or a list of proxy addresses/CIDRs.
   */
  trustProxy: z
    .preprocess(readTrustProxy, z.union([z.literal(false), z.number().int().min(1).max(32), proxyList], { error: TRUST_PROXY_FORMS }))
    .default(false),
  /** Origins whose browser pages may call the API (CORS); none by default. */
  corsOrigins: z.preprocess(readList, z.array(origin)).default([]),
  /** Time a client has to send a whole request (headers and body), and its headers alone. */
  requestTimeoutSeconds: seconds(120),
  headersTimeoutSeconds: seconds(20),
  /** After SIGTERM/SIGINT the process exits within this, whatever hangs. */
  shutdownTimeoutSeconds: seconds(15),
  /** How often expired and revoked sessions are deleted. */
  sessionPruneIntervalSeconds: seconds(60 * 60),
  /** Absolute base URL for media links; derived from each request when unset. */
  publicUrl: z.string().url().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** STUN/TURN servers handed to call clients. */
  iceServers: z.array(iceServer).default([{ urls: 'stun:stun.l.google.com:19302' }]),
}).refine((c) => c.headersTimeoutSeconds <= c.requestTimeoutSeconds, { path: ['headersTimeoutSeconds'], message: 'must not exceed requestTimeoutSeconds' });

export type Config = z.infer<typeof schema> & { jwtSecret: string };
export type ConfigInput = z.input<typeof schema>;

/** Thrown with every problem found, so an admin fixes them all in one go. */
export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const ENV_KEYS: Record<string, keyof ConfigInput> = {
  HOST: 'host',
  PORT: 'port',
  JVAI_DATA_DIR: 'dataDir',
  DATABASE_URL: 'databaseUrl',
  REDIS_URL: 'redisUrl',
  REDIS_PREFIX: 'redisPrefix',
  PRESENCE_TTL: 'presenceTtlSeconds',
  JWT_SECRET: 'jwtSecret',
  ACCESS_TOKEN_TTL: 'accessTokenTtlSeconds',
  REFRESH_TOKEN_TTL: 'refreshTokenTtlSeconds',
  MEDIA_MAX_BYTES: 'mediaMaxBytes',
  MEDIA_MAX_PIXELS: 'mediaMaxPixels',
  RING_TIMEOUT: 'ringTimeoutSeconds',
  AUTH_RATE_LIMIT: 'authRateLimit',
  SEND_RATE_LIMIT: 'sendRateLimit',
  SEND_BURST: 'sendBurst',
  LOGIN_FAILURE_LIMIT: 'loginFailureLimit',
  TRUST_PROXY: 'trustProxy',
  CORS_ORIGINS: 'corsOrigins',
  REQUEST_TIMEOUT: 'requestTimeoutSeconds',
  HEADERS_TIMEOUT: 'headersTimeoutSeconds',
  SHUTDOWN_TIMEOUT: 'shutdownTimeoutSeconds',
  PUBLIC_URL: 'publicUrl',
  LOG_LEVEL: 'logLevel',
};

function readFileLayer(file: string | false | undefined, problems: string[]): Record<string, unknown> {
  if (file === false) return {};
  const candidate = file ?? path.resolve('config', `${process.env.NODE_ENV ?? 'production'}.json`);
  if (!fs.existsSync(candidate)) {
    if (file) problems.push(`config file ${file} does not exist`);
    return {};
  }
  try {
    return JSON.parse(fs.readFileSync(candidate, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    problems.push(`config file ${candidate}: ${(err as Error).message}`);
    return {};
  }
}

function envLayer(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value !== undefined && value !== '') out[key] = value;
  }
  if (env.ICE_SERVERS) {
    try {
      out.iceServers = JSON.parse(env.ICE_SERVERS);
    } catch {
      out.iceServers = 'ICE_SERVERS is not JSON';
    }
  }
  return out;
}

/** The secret must survive restarts (or every token dies), so it is kept in the data dir. */
function ensureJwtSecret(dataDir: string): string {
  const file = path.join(dataDir, 'jwt-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(48).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  return secret;
}

export interface LoadOptions {
  flags?: ConfigInput;
  env?: NodeJS.ProcessEnv;
  /** Explicit config file; default config/<NODE_ENV>.json when present; false reads none. */
  file?: string | false;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const cfg = readConfig(options);
  return { ...cfg, jwtSecret: cfg.jwtSecret ?? ensureJwtSecret(cfg.dataDir) };
}

/**
 * The configuration without generating a JWT secret when none is set: for `jvai admin restore`,
 * which must not write into the data dir before it puts the backed-up secret there.
 */
export function readConfig({ flags = {}, env = process.env, file }: LoadOptions = {}): z.infer<typeof schema> {
  const problems: string[] = [];
  const fileLayer = readFileLayer(file ?? env.JVAI_CONFIG, problems);
  const defined = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const result = schema.safeParse({ ...fileLayer, ...envLayer(env), ...defined });
  if (!result.success) {
    for (const issue of result.error.issues) problems.push(`${issue.path.join('.') || 'config'}: ${issue.message}`);
  }
  if (problems.length || !result.success) throw new ConfigError(problems);
  const cfg = result.data;
  cfg.dataDir = path.resolve(cfg.dataDir);
  if (cfg.publicUrl) cfg.publicUrl = cfg.publicUrl.replace(/\/+$/, '');
  return cfg;
}
