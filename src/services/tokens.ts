/**
 * JWT access/refresh tokens in simplejwt's format, with server-side sessions so that
 * refresh tokens rotate, reuse is detected, and logout/ban/password change revoke.
 */
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Op, type Sequelize } from 'sequelize';
import type { Config } from '../config.js';
import type { EventBus } from '../events/bus.js';
import { Session, User } from '../models/index.js';
import { AuthenticationFailed } from '../errors.js';
import { RevocationLog } from './revocations.js';
import { transaction } from '../db/connection.js';

const ALGORITHM = 'HS256';

type TokenType = 'access' | 'refresh';

interface Claims {
  token_type: TokenType;
  user_id: number;
  sid: string;
  jti: string;
  exp: number;
}

export interface TokenPair {
  access: string;
  refresh: string;
}

/**
 * How long a verified token and its loaded user are trusted without asking the database. A
 * revocation empties the cache at once in the process that made it and, through the bus, in every
 * other (Redis); where no bus reaches (`jvai admin` beside a server without Redis) the revocation
 * watcher sees it within its poll interval. This bound is for what has no event there: a profile
 * edited by another process without Redis shows in the cached user for at most this long.
 */
const SESSION_CACHE_MS = 2000;
const SESSION_CACHE_MAX = 10_000;

interface CachedSession {
  user: User;
  sessionId: string;
  /** The token's own expiry (ms since the epoch). */
  expiresAt: number;
  checkedAt: number;
}

const invalidToken = (message = 'Token is invalid or expired') => new AuthenticationFailed(message, 'token_not_valid');

export class TokenService {
  /** Built once: jsonwebtoken would otherwise turn the secret string into a key on every call. */
  private readonly key: crypto.KeyObject;

  readonly revocations: RevocationLog;

  constructor(
    private readonly config: Config,
    private readonly sequelize: Sequelize,
    private readonly bus: EventBus,
  ) {
    this.key = crypto.createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
    this.revocations = new RevocationLog(sequelize);
  }

  private sign(type: TokenType, userId: number, sid: string, jti: string): string {
    const ttl = type === 'access' ? this.config.accessTokenTtlSeconds : this.config.refreshTokenTtlSeconds;
    return jwt.sign({ token_type: type, user_id: userId, sid, jti }, this.key, { algorithm: ALGORITHM, expiresIn: ttl });
  }

  private verify(token: string, type: TokenType): Claims {
    let claims: jwt.JwtPayload;
    try {
      // Pinning the algorithm refuses alg=none and key-confusion tricks.
      claims = jwt.verify(token, this.key, { algorithms: [ALGORITHM] }) as jwt.JwtPayload;
    } catch {
      throw invalidToken();
    }
    if (claims.token_type !== type || typeof claims.exp !== 'number' || typeof claims.user_id !== 'number' || typeof claims.sid !== 'string' || typeof claims.jti !== 'string') {
      throw invalidToken(type === 'access' ? 'Given token not valid for any token type' : 'Token has wrong type');
    }
    return claims as unknown as Claims;
  }

  private pair(userId: number, sid: string, refreshJti: string): TokenPair {
    return { access: this.sign('access', userId, sid, crypto.randomUUID()), refresh: this.sign('refresh', userId, sid, refreshJti) };
  }

  /** Starts a new session (a login) and returns its first token pair. */
  async issue(user: User): Promise<TokenPair> {
    const session = await Session.create({
      id: crypto.randomUUID(),
      userId: user.id,
      currentJti: crypto.randomUUID(),
      expiresAt: new Date(Date.now() + this.config.refreshTokenTtlSeconds * 1000),
    });
    return this.pair(user.id, session.id, session.currentJti);
  }

  /** Rotates a refresh token. A spent token used again revokes its whole family. */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const claims = this.verify(refreshToken, 'refresh');
    const session = await Session.findByPk(claims.sid, { include: [{ model: User, as: 'user' }] });
    const user = (session as (Session & { user?: User }) | null)?.user;
    if (!session || session.revokedAt || !user || user.isBanned || session.userId !== claims.user_id) throw invalidToken('Token is blacklisted');
    const nextJti = crypto.randomUUID();
    // Compare-and-swap on the current jti: of two concurrent uses of one token, only one wins.
    const [rotated] = await Session.update(
      { currentJti: nextJti, expiresAt: new Date(Date.now() + this.config.refreshTokenTtlSeconds * 1000) },
      { where: { id: session.id, currentJti: claims.jti, revokedAt: null } },
    );
    if (!rotated) {
      await this.revokeSession(session.userId, session.id);
      throw invalidToken('Token is blacklisted');
    }
    return this.pair(user.id, session.id, nextJti);
  }

  /**
   * Access tokens recently verified, with their session found valid (Map order: oldest first, for
   * eviction). Keyed by the exact token text, so a hit needs neither the signature check nor a query.
   */
  private readonly sessions = new Map<string, CachedSession>();

  /**
   * Resolves an access token to its user, refusing revoked sessions and banned users.
   * `expiresAt` (ms): when the token stops being valid, so a socket can end with it.
   */
  async authenticate(accessToken: string): Promise<{ user: User; sessionId: string; expiresAt: number }> {
    const cached = this.sessions.get(accessToken);
    if (cached && Date.now() < cached.expiresAt && performance.now() - cached.checkedAt < SESSION_CACHE_MS) {
      return { user: cached.user, sessionId: cached.sessionId, expiresAt: cached.expiresAt };
    }
    const claims = this.verify(accessToken, 'access');
    const session = await Session.findOne({
      where: { id: claims.sid, userId: claims.user_id, revokedAt: null },
      include: [{ model: User, as: 'user', required: true }],
    });
    const user = (session as (Session & { user?: User }) | null)?.user;
    if (!user) throw invalidToken('Given token not valid for any token type');
    if (user.isBanned) throw new AuthenticationFailed('User is inactive', 'user_inactive');
    this.sessions.delete(accessToken);
    if (this.sessions.size >= SESSION_CACHE_MAX) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(accessToken, { user, sessionId: claims.sid, expiresAt: claims.exp * 1000, checkedAt: performance.now() });
    return { user, sessionId: claims.sid, expiresAt: claims.exp * 1000 };
  }

  /** Forgets cached tokens of these sessions (revoked here, or seen revoked by another process). */
  forgetSessions(sessionIds: Iterable<string>): void {
    const ended = new Set(sessionIds);
    for (const [token, cached] of this.sessions) if (ended.has(cached.sessionId)) this.sessions.delete(token);
  }

  /** Forgets what is cached of a user's sessions: after a revocation or a change to the user. */
  forgetUser(userId: number): void {
    for (const [token, { user }] of this.sessions) if (user.id === userId) this.sessions.delete(token);
  }

  /** The session a refresh token belongs to, if the token is genuine and of this user. */
  sessionOf(refreshToken: string, userId: number): string {
    const claims = this.verify(refreshToken, 'refresh');
    if (claims.user_id !== userId) throw invalidToken();
    return claims.sid;
  }

  /** Ends one session of a user; its open sockets close on every process. */
  async revokeSession(userId: number, sessionId: string): Promise<void> {
    await this.revoke(userId, { id: sessionId, userId, revokedAt: null });
  }

  /** Ends every session of a user; their open sockets close on every process. */
  async revokeAll(userId: number): Promise<void> {
    await this.revoke(userId, { userId, revokedAt: null });
  }

  /**
   * Names the sessions revoked that may still have sockets (an expired session has no valid
   * access token), so sessions opened afterwards are left alone. The revocation rows go in the
   * same transaction as the sessions' change, so no process can miss them; the bus event after
   * COMMIT closes sockets at once wherever the bus reaches.
   */
  private async revoke(userId: number, where: { userId: number; id?: string; revokedAt: null }): Promise<void> {
    const now = new Date();
    const sessionIds = await transaction(this.sequelize, async (transaction) => {
      const live = await Session.findAll({ attributes: ['id'], where: { ...where, expiresAt: { [Op.gt]: now } }, transaction });
      await Session.update({ revokedAt: now }, { where, transaction });
      const ids = live.map((s) => s.id);
      await this.revocations.record(userId, ids, transaction);
      return ids;
    });
    this.forgetSessions(sessionIds);
    if (sessionIds.length) await this.bus.publish('user.sessions_revoked', { userId, sessionIds });
  }

  /**
   * Deletes sessions that can no longer be refreshed: expired, or revoked long enough ago that
   * every access token of theirs has expired too (so whatever watches revocations has seen it).
   * Returns how many went.
   */
  async prune(): Promise<number> {
    const now = Date.now();
    const revokedBefore = new Date(now - this.config.accessTokenTtlSeconds * 1000);
    return Session.destroy({ where: { [Op.or]: [{ expiresAt: { [Op.lt]: new Date(now) } }, { revokedAt: { [Op.lt]: revokedBefore } }] } });
  }
}
