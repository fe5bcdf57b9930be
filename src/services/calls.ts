/**
 * Audio/video calls: the status machine, the busy rule and ring timeouts. WebRTC signaling
 * is relayed by the realtime layer, which asks participants() who may talk about a call.
 */
import { Op, Transaction, type WhereOptions } from 'sequelize';
import type { ServiceDeps } from './deps.js';
import type { UserService } from './users.js';
import { Call, User } from '../models/index.js';
import type { CallStatus, CallType } from '../models/call.js';
import type { CallPayload } from '../events/types.js';
import { presentCall } from '../presenters/call.js';
import { BadRequest, Conflict, NotFound, PermissionDenied, ValidationError } from '../errors.js';
import { pageQuery, toPage, type Page, type PageRequest } from './pagination.js';

const LIVE: CallStatus[] = ['pending', 'active'];
const FINISHED: CallStatus[] = ['ended', 'rejected', 'missed'];

const USER_FIELDS = ['id', 'username', 'firstName', 'lastName'];
const WITH_USERS = {
  include: [
    { model: User, as: 'caller', attributes: USER_FIELDS },
    { model: User, as: 'callee', attributes: USER_FIELDS },
  ],
};

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

const involving = (userId: number): WhereOptions => ({ [Op.or]: [{ callerId: userId }, { calleeId: userId }] });

export class CallService {
  constructor(private readonly deps: ServiceDeps, private readonly users: UserService) {}

  private get ringTimeoutMs(): number {
    return this.deps.config.ringTimeoutSeconds * 1000;
  }

  /** When a call that started at `startedAt` stops ringing (epoch ms). */
  ringDeadline(startedAt: Date | string): number {
    return new Date(startedAt).getTime() + this.ringTimeoutMs;
  }

  /** STUN/TURN servers handed to call clients. */
  iceServers() {
    return this.deps.config.iceServers;
  }

  /** Rings the callee. Caller and callee must both be free: one live call per person. */
  async start(actor: User, input: StartCallInput): Promise<CallPayload> {
    const field = input.field ?? 'callee';
    if (input.calleeId === undefined && input.calleeUsername === undefined) throw ValidationError.field(field, 'This field is required.');
    const callee = await this.users.resolve({ id: input.calleeId, username: input.calleeUsername }, field);
    if (callee.id === actor.id) throw ValidationError.nonField('You cannot call yourself.');
    const ids = [actor.id, callee.id];
    // A ring that timed out while no timer ran (a restart) must not keep anyone busy.
    await this.sweep({ [Op.or]: [{ callerId: ids }, { calleeId: ids }] });
    const { events } = this.deps;
    return events.transaction(async (transaction) => {
      // Locking both users (in id order, so crossing calls cannot deadlock) serializes concurrent
      // starts involving either of them on PostgreSQL; SQLite ignores the lock, its IMMEDIATE
      // transaction already serializes writers.
      await User.findAll({ attributes: ['id'], where: { id: ids }, order: [['id', 'ASC']], lock: Transaction.LOCK.UPDATE, transaction });
      const busy = await Call.findOne({ attributes: ['callerId', 'calleeId'], where: { status: LIVE, [Op.or]: [{ callerId: ids }, { calleeId: ids }] }, transaction });
      if (busy) throw new Conflict(busy.callerId === actor.id || busy.calleeId === actor.id ? 'You are already in a call.' : `${callee.username} is already in a call.`);
      const call = await Call.create({ callerId: actor.id, calleeId: callee.id, callType: input.callType }, { transaction });
      const payload = presentCall(await this.load(call.id, transaction));
      await events.emit('call.started', { call: payload }, transaction);
      return payload;
    });
  }

  async get(actor: User, callId: number): Promise<CallPayload> {
    return presentCall(await this.find(actor, callId));
  }

  /** Who takes part in a call and its status, for the signaling relay; null when there is no such call. */
  async participants(callId: number): Promise<CallParticipants | null> {
    const call = await Call.findByPk(callId, { attributes: ['callerId', 'calleeId', 'status'] });
    return call && { callerId: call.callerId, calleeId: call.calleeId, status: call.status };
  }

  async accept(actor: User, callId: number): Promise<CallPayload> {
    return this.act(actor, await this.find(actor, callId), 'accept');
  }

  async reject(actor: User, callId: number): Promise<CallPayload> {
    return this.act(actor, await this.find(actor, callId), 'reject');
  }

  /** Hangs up: a call still ringing becomes missed, an active one ended. */
  async end(actor: User, callId: number): Promise<CallPayload> {
    return this.act(actor, await this.find(actor, callId), 'end');
  }

  /** `PUT/PATCH {"status"}`: only along the edges of the status machine. */
  async update(actor: User, callId: number, { status }: { status?: CallStatus }): Promise<CallPayload> {
    const call = await this.find(actor, callId);
    if (status === undefined) return presentCall(call);
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

  async list(actor: User, page: PageRequest): Promise<Page<CallPayload>> {
    return this.page(page, involving(actor.id));
  }

  /** Finished calls: ended, rejected or missed. */
  async history(actor: User, page: PageRequest): Promise<Page<CallPayload>> {
    return this.page(page, { ...involving(actor.id), status: FINISHED });
  }

  /** Calls ringing or under way. */
  async active(actor: User, page: PageRequest): Promise<Page<CallPayload>> {
    return this.page(page, { ...involving(actor.id), status: LIVE });
  }

  /** Calls the actor did not pick up. */
  async missed(actor: User, page: PageRequest): Promise<Page<CallPayload>> {
    return this.page(page, { calleeId: actor.id, status: 'missed' });
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
  private async expire(callId: number, startedAt: Date): Promise<void> {
    const { events } = this.deps;
    await events.transaction(async (transaction) => {
      const [count] = await Call.update(
        // The ring stopped at its deadline, even when a sweep notices it later (after a restart).
        { status: 'missed', endedAt: new Date(this.ringDeadline(startedAt)) },
        { where: { id: callId, status: 'pending', startedAt: { [Op.lte]: new Date(Date.now() - this.ringTimeoutMs) } }, transaction },
      );
      if (count) await events.emit('call.missed', { call: presentCall(await this.load(callId, transaction)) }, transaction);
    });
  }

  private async load(callId: number, transaction?: Transaction): Promise<Call> {
    const call = await Call.findByPk(callId, { ...WITH_USERS, transaction });
    if (!call) throw new NotFound();
    return call;
  }

  /** A call the actor takes part in; to anybody else it does not exist. */
  private async find(actor: User, callId: number): Promise<Call> {
    const call = await this.load(callId);
    if (call.callerId !== actor.id && call.calleeId !== actor.id) throw new NotFound();
    // A ring past its deadline is over even if no timer has fired yet.
    if (call.status === 'pending' && this.ringDeadline(call.startedAt) <= Date.now()) {
      await this.expire(call.id, call.startedAt);
      return this.load(callId);
    }
    return call;
  }

  /**
   * Moves a call along the status machine with a conditional update (WHERE status = the status
   * we saw), so of two racing requests exactly one succeeds; the loser re-reads and decides again.
   */
  private async act(actor: User, call: Call, action: Action): Promise<CallPayload> {
    if (action !== 'end' && call.calleeId !== actor.id) throw new PermissionDenied();
    let current: CallStatus = call.status;
    for (;;) {
      const to = MOVES[action][current];
      if (!to) throw new BadRequest(REFUSED[action]);
      const now = new Date();
      const { events } = this.deps;
      const moved = await events.transaction(async (transaction) => {
        const [count] = await Call.update(to === 'active' ? { status: to, answeredAt: now } : { status: to, endedAt: now }, { where: { id: call.id, status: current }, transaction });
        if (!count) return null;
        const payload = presentCall(await this.load(call.id, transaction));
        await events.emit(EVENTS[to], { call: payload, byUserId: actor.id }, transaction);
        return payload;
      });
      if (moved) return moved;
      // Statuses only move forward, so this loop ends: at worst the call is over and we refuse.
      current = (await this.load(call.id)).status;
    }
  }

  private async page(page: PageRequest, where: WhereOptions): Promise<Page<CallPayload>> {
    const q = pageQuery(page);
    const rows = await Call.findAll({ ...WITH_USERS, ...q, where: { ...q.where, ...where } });
    const { items, nextBefore } = toPage(rows, page, (c) => c.id);
    return { items: items.map(presentCall), nextBefore };
  }
}
