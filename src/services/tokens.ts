/**
 * JWT access/refresh tokens in simplejwt's format, with server-side sessions so that
 * refresh tokens rotate, reuse is detected, and logout/ban/password change revoke.
 */
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { Op } from 'sequelize';
import type { Config } from '../config.js';
import { Session, User } from '../models/index.js';
import { AuthenticationFailed } from '../errors.js';

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

const invalidToken = (message = 'Token is invalid or expired') => new AuthenticationFailed(message, 'token_not_valid');

export class TokenService {
  /** Built once: jsonwebtoken would otherwise turn the secret string into a key on every call. */
  private readonly key: crypto.KeyObject;

  constructor(private readonly config: Config) {
    this.key = crypto.createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
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
      await this.revokeSession(session.id);
      throw invalidToken('Token is blacklisted');
    }
    return this.pair(user.id, session.id, nextJti);
  }

  /** Resolves an access token to its user, refusing revoked sessions and banned users. */
  async authenticate(accessToken: string): Promise<{ user: User; sessionId: string }> {
    const claims = this.verify(accessToken, 'access');
    const session = await Session.findOne({
      where: { id: claims.sid, userId: claims.user_id, revokedAt: null },
      include: [{ model: User, as: 'user', required: true }],
    });
    const user = (session as (Session & { user?: User }) | null)?.user;
    if (!user) throw invalidToken('Given token not valid for any token type');
    if (user.isBanned) throw new AuthenticationFailed('User is inactive', 'user_inactive');
    return { user, sessionId: claims.sid };
  }

  /** The session a refresh token belongs to, if the token is genuine and of this user. */
  sessionOf(refreshToken: string, userId: number): string {
    const claims = this.verify(refreshToken, 'refresh');
    if (claims.user_id !== userId) throw invalidToken();
    return claims.sid;
  }

  async revokeSession(sessionId: string): Promise<void> {
    await Session.update({ revokedAt: new Date() }, { where: { id: sessionId, revokedAt: null } });
  }

  async revokeAll(userId: number): Promise<void> {
    await Session.update({ revokedAt: new Date() }, { where: { userId, revokedAt: null } });
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
