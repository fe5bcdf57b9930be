import type { CallPayload } from '../events/types.js';
import type { CallRow } from '../db/rows.js';
import { num } from '../db/sql.js';
import { presentNestedUser } from './user.js';
import { iso } from './context.js';

/** Whole seconds from start to end; null while the call is not over. */
export function callDuration(call: Pick<CallRow, 'startedAt' | 'endedAt'>): number | null {
  if (!call.endedAt) return null;
  return Math.max(0, Math.floor((new Date(call.endedAt).getTime() - new Date(call.startedAt).getTime()) / 1000));
}

/** The payload is the same for both participants, so it also travels unchanged in call events. */
export function presentCall(call: CallRow): CallPayload {
  return {
    id: num(call.id),
    caller: presentNestedUser({ id: num(call.callerId), username: call.callerUsername, firstName: call.callerFirstName, lastName: call.callerLastName }),
    callee: presentNestedUser({ id: num(call.calleeId), username: call.calleeUsername, firstName: call.calleeFirstName, lastName: call.calleeLastName }),
    call_type: call.callType,
    status: call.status,
    started_at: iso(call.startedAt),
    answered_at: iso(call.answeredAt),
    ended_at: iso(call.endedAt),
    duration: callDuration(call),
  };
}
