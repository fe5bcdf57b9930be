import type { Call, User } from '../models/index.js';
import type { CallPayload } from '../events/types.js';
import { presentNestedUser } from './user.js';
import { iso } from './context.js';

/** Whole seconds from start to end; null while the call is not over. */
export function callDuration(call: Call): number | null {
  if (!call.endedAt) return null;
  return Math.max(0, Math.floor((new Date(call.endedAt).getTime() - new Date(call.startedAt).getTime()) / 1000));
}

/**
 * A call with its caller and callee loaded (CallService includes them). The payload is the
 * same for both participants, so it also travels unchanged in call events.
 */
export function presentCall(call: Call): CallPayload {
  return {
    id: call.id,
    caller: presentNestedUser(call.get('caller') as User),
    callee: presentNestedUser(call.get('callee') as User),
    call_type: call.callType,
    status: call.status,
    started_at: new Date(call.startedAt).toISOString(),
    answered_at: iso(call.answeredAt),
    ended_at: iso(call.endedAt),
    duration: callDuration(call),
  };
}
