/**
 * Configuration, loaded once at boot and validated.
 * Precedence (lowest first): defaults < config/<NODE_ENV>.json (or --config FILE) < environment < flags.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';

const iceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

const schema = z.object({
  /** Interface to bind. */
  host: z.string().min(1).default('0.0.0.0'),
  /** TCP port; 0 picks a free one (tests). */
  port: z.coerce.number().int().min(0).max(65535).default(8000),
  /** Where the SQLite file, uploaded media and the generated JWT secret live. */
  dataDir: z.string().min(1).default('./data'),
  /** postgres://… to use PostgreSQL; unset means SQLite in dataDir. */
  databaseUrl: z.string().regex(/^(postgres|postgresql|sqlite):/, 'must start with postgres://, postgresql:// or sqlite:').optional(),
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
  /** Absolute base URL for media links; derived from each request when unset. */
  publicUrl: z.string().url().optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** STUN/TURN servers handed to call clients. */
  iceServers: z.array(iceServer).default([{ urls: 'stun:stun.l.google.com:19302' }]),
});

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
