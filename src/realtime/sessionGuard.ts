/**
 * Keeps a socket within the life of the session it was opened with: it closes (4401) when the
 * access token expires, and the session is checked once more after the socket joined the
 * hub's rooms, since a revocation that landed while it was being admitted went out before it
 * could hear it. Later revocations reach it through the hub.
 */
import type { Logger } from 'pino';
import type { TokenService } from '../services/tokens.js';
import { AuthenticationFailed } from '../errors.js';
import { CLOSE, type HubConnection } from './hub.js';

/** setTimeout's longest delay; a later moment is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export interface SessionGrant {
  /** The access token the socket was admitted with. */
  token: string;
  /** Its expiry, epoch ms. */
  expiresAt: number;
}

/** Call once the connection is in the hub's rooms; returns the canceller (call on disconnect). */
export function guardSession(connection: Pick<HubConnection, 'close'>, { token, expiresAt }: SessionGrant, tokens: Pick<TokenService, 'authenticate'>, logger: Logger): () => void {
  let timer: NodeJS.Timeout;
  let cancelled = false;
  const arm = () => {
    const delay = expiresAt - Date.now();
    timer = delay > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(() => connection.close(CLOSE.unauthorized, 'Token expired.'), Math.max(0, delay));
    timer.unref();
  };
  arm();
  tokens.authenticate(token).catch((err: unknown) => {
    if (cancelled) return;
    if (err instanceof AuthenticationFailed) connection.close(CLOSE.unauthorized, 'Session revoked.');
    else logger.error({ err }, 'realtime session check failed');
  });
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
