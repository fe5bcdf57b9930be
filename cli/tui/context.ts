import type { JvaiClient } from '../client/api.js';
import type { RealtimeClient } from '../client/realtime.js';
import type { EntryKey } from './entries.js';

/** What the parts of the chat model (direct messages, groups, feed, typing, calls) share from it. */
export interface ChatContext {
  readonly api: JvaiClient;
  readonly realtime: RealtimeClient;
  /** The logged-in user's id. */
  readonly me: number;
  /** The entry on screen. */
  readonly open: EntryKey;
  /** Something shown changed: the snapshot is rebuilt and the view told. */
  changed(): void;
  /** Shows a notice (until the next action); false, for actions that answer whether they did something. */
  tell(notice: string): false;
  /** Runs an action; a failure becomes the notice (and undefined) instead of an exception. */
  guard<T>(action: () => Promise<T>): Promise<T | undefined>;
}
