/** Ending a socket when the access token it was opened with expires. */
import { CLOSE, type HubConnection } from './hub.js';

/** setTimeout's longest delay; a later moment is reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Closes the connection with 4401 at `expiresAt` (epoch ms); returns the canceller. */
export function closeAtExpiry(connection: Pick<HubConnection, 'close'>, expiresAt: number): () => void {
  let timer: NodeJS.Timeout;
  const arm = () => {
    const delay = expiresAt - Date.now();
    timer = delay > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(() => connection.close(CLOSE.unauthorized, 'Token expired.'), Math.max(0, delay));
    timer.unref();
  };
  arm();
  return () => clearTimeout(timer);
}
