/**
 * Audio/video calls: the status machine, the busy rule and ring timeouts. WebRTC signaling
 * is relayed by the realtime layer, which asks participants() who may talk about a call.
 */
import { Op, type WhereOptions } from 'sequelize';
import type { ServiceDeps } from './deps.js';
import { Call, type User } from '../models/index.js';
import type { CallStatus, CallType } from '../models/call.js';
import { presentCall } from '../presenters/call.js';
import { BadRequest, Conflict, NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { keyset, toPage, type Page, type PageRequest } from './pagination.js';
import { sqlOf } from '../db/connection.js';
import { placeholders, type Sql, type SqlRunner, type SqlValue } from '../db/sql.js';
import { resolveParty, type Party } from './parties.js';
import { checkedWrite } from './references.js';
import type { CallRow, DbDate } from '../db/rows.js';

const LIVE: CallStatus[] = ['pending', 'active'];
const FINISHED: CallStatus[] = ['ended', 'rejected', 'missed'];

/** A call's columns, from `calls` as `c` with its caller (`cr`) and callee (`ce`). */
const CALLS = `SELECT c.id, c.call_type AS "callType", c.status, c.started_at AS "startedAt", c.answered_at AS "answeredAt", c.ended_at AS "endedAt",
    c.caller_id AS "callerId", cr.username AS "callerUsername", cr.first_name AS "callerFirstName", cr.last_name AS "callerLastName",
    c.callee_id AS "calleeId", ce.username AS "calleeUsername", ce.first_name AS "calleeFirstName", ce.last_name AS "calleeLastName"
  FROM calls c JOIN users cr ON cr.id = c.caller_id JOIN users ce ON ce.id = c.callee_id`;
/** A live call (statuses: LIVE) involving either of two users (each id list given twice). */
const BUSY = `c.status IN (${placeholders(LIVE.length)}) AND (c.caller_id IN (?, ?) OR c.callee_id IN (?, ?))`;
/** A new call, ringing, unless BUSY finds one. */
const INSERT_CALL = `INSERT INTO calls (caller_id, callee_id, call_type, status, started_at)
  SELECT ?, ?, ?, 'pending', ? WHERE NOT EXISTS (SELECT 1 FROM calls c WHERE ${BUSY}) RETURNING id`;
/** Calls the user (given twice) takes part in. */
const INVOLVING = '(c.caller_id = ? OR c.callee_id = ?)';

const EVENTS = { active: 'call.accepted', rejected: 'call.rejected', ended: 'call.ended', missed: 'call.missed' } as const;
type Outcome = keyof typeof EVENTS;
type Action = 'accept' | 'reject' | 'end';

/** The status machine: from which status each action moves a call, and to which. */
const MOVES: Record<Action, Partial<Record<CallStatus, Outcome>>> = {
  accept: { pending: 'active' },
  reject: { pending: 'rejected' },
  end: { pending: 'missed', active: 'ended' },
};

const REFUSED: Record<Action, string> = {
  accept: 'This call is no longer pending.',
  reject: 'This call is no longer pending.',
  end: 'This call is already over.',
};

/** Which action a `PUT {"status"}` asks for, or undefined when the machine has no such edge. */
function actionFor(from: CallStatus, to: CallStatus): Action | undefined {
  // Hanging up a call nobody answered records it as missed, whatever the client called it.
  if (from === 'pending' && to === 'ended') return 'end';
  return (Object.keys(MOVES) as Action[]).find((action) => MOVES[action][from] === to);
}

export interface StartCallInput {
  calleeId?: number;
  calleeUsername?: string;
  callType: CallType;
  /** The request field naming the callee, for error messages (`callee`, `receiver`, …). */
  field?: string;
}

export interface CallParticipants {
  callerId: number;
  calleeId: number;
  status: CallStatus;
}

/** A call still ringing, and when (epoch ms) its ring times out. */
export interface Ringing {
  id: number;
  deadline: number;
}

export class CallService {
  private readonly sql: Sql;

  constructor(private readonly deps: ServiceDeps) {
    this.sql = sqlOf(deps.sequelize);
  }

  private get ringTimeoutMs(): number {
    return this.deps.config.ringTimeoutSeconds * 1000;
  }

  /** When a call that started at `startedAt` stops ringing (epoch ms). */
  ringDeadline(startedAt: DbDate): number {
    return new Date(startedAt).getTime() + this.ringTimeoutMs;
  }

  /** STUN/TURN servers handed to call clients. */
  iceServers() {
    return this.deps.config.iceServers;
  }

  /** Rings the callee. Caller and callee must both be free: one live call per person. */
  async start(actor: User, input: StartCallInput): Promise<CallRow> {
    const field = input.field ?? 'callee';
    const { calleeId, calleeUsername } = input;
    const ref = calleeId !== undefined ? { id: calleeId } : calleeUsername !== undefined ? { username: calleeUsername } : null;
    if (!ref) throw ValidationError.field(field, 'This field is required.');
    const resolveCallee = async () => {
      const callee = await resolveParty(this.sql, ref, field);
      if (callee.id === actor.id) throw ValidationError.nonField('You cannot call yourself.');
      return callee;
    };
    return checkedWrite(resolveCallee, (callee) => this.ring(actor, callee, input.callType));
  }

  /**
   * Creates the call unless either side is busy, and announces it. The busy rule is the INSERT's
   * own condition, so two rings involving the same person cannot both pass it (on PostgreSQL the
   * rings involving either user take turns first, so the second INSERT sees the first call once it
   * committed).
   */
  private async ring(actor: User, callee: Party, callType: CallType): Promise<CallRow> {
    const ids = [actor.id, callee.id];
    // A ring that timed out while no timer ran (a restart) must not keep anyone busy.
    await this.sweep({ [Op.or]: [{ callerId: ids }, { calleeId: ids }] });
    const { events } = this.deps;
    return this.sql.write(async (tx) => {
      await tx.takeTurns('callParties', ids);
      const created = await tx.get<{ id: number }>(INSERT_CALL, [actor.id, callee.id, callType, new Date(), ...LIVE, ...ids, ...ids]);
      if (!created) {
        const busy = await tx.get<{ callerId: number; calleeId: number }>(`SELECT caller_id AS "callerId", callee_id AS "calleeId" FROM calls c WHERE ${BUSY}`, [...LIVE, ...ids, ...ids]);
        const actorBusy = busy && (Number(busy.callerId) === actor.id || Number(busy.calleeId) === actor.id);
        throw new Conflict(actorBusy ? 'You are already in a call.' : `${callee.username} is already in a call.`);
      }
      const call = await this.load(tx, created.id);
      await events.log(tx, 'call.started', { call: presentCall(call) }, ids);
      return call;
    });
  }

  async get(actor: User, callId: number): Promise<CallRow> {
    return this.find(actor, callId);
  }

  /** Who takes part in a call and its status, for the signaling relay; null when there is no such call. */
  async participants(callId: number): Promise<CallParticipants | null> {
    const call = await Call.findByPk(callId, { attributes: ['callerId', 'calleeId', 'status'] });
    return call && { callerId: call.callerId, calleeId: call.calleeId, status: call.status };
  }

  async accept(actor: User, callId: number): Promise<CallRow> {
    return this.act(actor, await this.find(actor, callId), 'accept');
  }

  async reject(actor: User, callId: number): Promise<CallRow> {
    return this.act(actor, await this.find(actor, callId), 'reject');
  }

  /** Hangs up: a call still ringing becomes missed, an active one ended. */
  async end(actor: User, callId: number): Promise<CallRow> {
    return this.act(actor, await this.find(actor, callId), 'end');
  }

  /** `PUT/PATCH {"status"}`: only along the edges of the status machine. */
  async update(actor: User, callId: number, { status }: { status?: CallStatus }): Promise<CallRow> {
    const call = await this.find(actor, callId);
    if (status === undefined) return call;
    const action = actionFor(call.status, status);
    if (!action) throw ValidationError.field('status', `A ${call.status} call cannot become ${status}.`);
    return this.act(actor, call, action);
  }

  async delete(actor: User, callId: number): Promise<void> {
    const call = await this.find(actor, callId);
    // A live call is hung up first, so the other side hears that it is over.
    if (LIVE.includes(call.status)) await this.act(actor, call, 'end');
    await Call.destroy({ where: { id: call.id } });
  }

  async list(actor: User, page: PageRequest): Promise<Page<CallRow>> {
    return this.page(INVOLVING, [actor.id, actor.id], page);
  }

  /** Finished calls: ended, rejected or missed. */
  async history(actor: User, page: PageRequest): Promise<Page<CallRow>> {
    return this.page(`${INVOLVING} AND c.status IN (${placeholders(FINISHED.length)})`, [actor.id, actor.id, ...FINISHED], page);
  }

  /** Calls ringing or under way. */
  async active(actor: User, page: PageRequest): Promise<Page<CallRow>> {
    return this.page(`${INVOLVING} AND c.status IN (${placeholders(LIVE.length)})`, [actor.id, actor.id, ...LIVE], page);
  }

  /** Calls the actor did not pick up. */
  async missed(actor: User, page: PageRequest): Promise<Page<CallRow>> {
    return this.page("c.callee_id = ? AND c.status = 'missed'", [actor.id], page);
  }

  /**
   * Turns pending calls (matching `where`) whose ring timed out into missed ones and returns the
   * others with their deadlines, for the ring timer to schedule.
   */
  async sweep(where: WhereOptions = {}): Promise<Ringing[]> {
    const pending = await Call.findAll({ attributes: ['id', 'startedAt'], where: { ...where, status: 'pending' } });
    const ringing: Ringing[] = [];
    for (const call of pending) {
      const deadline = this.ringDeadline(call.startedAt);
      if (deadline <= Date.now()) await this.expire(call.id, call.startedAt);
      else ringing.push({ id: call.id, deadline });
    }
    return ringing;
  }

  /**
   * Marks a call missed if it is still ringing past its deadline. The update is conditional, so
   * when several processes (or a timer and a sweep) race, exactly one publishes 'call.missed'.
   */
  private async expire(callId: number, startedAt: DbDate): Promise<void> {
    // The ring stopped at its deadline, even when a sweep notices it later (after a restart).
    const endedAt = new Date(this.ringDeadline(startedAt));
    const ringingSince = new Date(Date.now() - this.ringTimeoutMs);
    await this.move(callId, "status = 'missed', ended_at = ?", [endedAt], "status = 'pending' AND started_at <= ?", [ringingSince], 'missed');
  }

  /**
   * Applies `set` to the call if it still matches `where`, and announces the move as `outcome`
   * (by `byUserId`, absent when no one made it); the updated call, or null when another request
   * moved it first.
   */
  private move(callId: number, set: string, setParams: SqlValue[], where: string, whereParams: SqlValue[], outcome: Outcome, byUserId?: number): Promise<CallRow | null> {
    const { events } = this.deps;
    return this.sql.write(async (tx) => {
      const { changes } = await tx.run(`UPDATE calls SET ${set} WHERE id = ? AND ${where}`, [...setParams, callId, ...whereParams]);
      if (!changes) return null;
      const call = await this.load(tx, callId);
      const payload = byUserId === undefined ? { call: presentCall(call) } : { call: presentCall(call), byUserId };
      await events.log(tx, EVENTS[outcome], payload, [call.callerId, call.calleeId]);
      return call;
    });
  }

  /** A call with both parties, read by `db` (a write job's, to see its own changes). */
  private async load(db: SqlRunner, callId: number): Promise<CallRow> {
    const call = await db.get<CallRow>(`${CALLS} WHERE c.id = ?`, [callId]);
    if (!call) throw new NotFound();
    return call;
  }

  /** A call the actor takes part in; to anybody else it does not exist. */
  private async find(actor: User, callId: number): Promise<CallRow> {
    const call = await this.load(this.sql.read, callId);
    if (call.callerId !== actor.id && call.calleeId !== actor.id) throw new NotFound();
    // A ring past its deadline is over even if no timer has fired yet.
    if (call.status === 'pending' && this.ringDeadline(call.startedAt) <= Date.now()) {
      await this.expire(call.id, call.startedAt);
      return this.load(this.sql.read, callId);
    }
    return call;
  }

  /**
   * Moves a call along the status machine with a conditional update (WHERE status = the status
   * we saw), so of two racing requests exactly one succeeds; the loser re-reads and decides again.
   */
  private async act(actor: User, call: CallRow, action: Action): Promise<CallRow> {
    if (action !== 'end' && call.calleeId !== actor.id) throw new PermissionDenied();
    let current: CallStatus = call.status;
    for (;;) {
      const to = MOVES[action][current];
      if (!to) throw new BadRequest(REFUSED[action]);
      const moved = await this.move(call.id, `status = ?, ${to === 'active' ? 'answered_at' : 'ended_at'} = ?`, [to, new Date()], 'status = ?', [current], to, actor.id);
      if (moved) return moved;
      // Statuses only move forward, so this loop ends: at worst the call is over and we refuse.
      current = (await this.load(this.sql.read, call.id)).status;
    }
  }

  /** One page of calls, newest first; `where` (with `params`) selects them. */
  private async page(where: string, params: SqlValue[], page: PageRequest): Promise<Page<CallRow>> {
    const k = keyset(this.sql, page, 'c.id');
    const rows = await this.sql.read.all<CallRow>(`${CALLS} WHERE ${where}${k.and}${k.order}`, [...params, ...k.params]);
    return toPage(rows, page, (c) => c.id);
  }
}
