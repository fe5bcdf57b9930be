/**
 * What `jvai chat` shows and does, without the drawing: conversations, groups and the feed,
 * the open one's messages, typing, read marks, connection status and calls. REST loads the
 * lists and histories; the socket.io channel (RealtimeClient) keeps them live and carries
 * sends, read marks and typing. The ink view (./App.tsx) renders `snapshot` and calls the
 * actions; every change replaces the snapshot and emits 'change'.
 */
import { EventEmitter } from 'node:events';
import crypto from 'node:crypto';
import type { JvaiClient } from '../client/api.js';
import { duration } from '../client/format.js';
import type { Conversation, DirectMessage, Group, GroupMessage, NestedUser, Post } from '../client/types.js';
import { RealtimeClient, type RealtimeOptions, type RealtimeStatus } from '../client/realtime.js';
import type { CallEvent, PostCreatedEvent, PresenceEvent, TypingEvent } from '../../src/schemas/protocol.js';
import type { AudioOptions } from '../call/audio.js';
import type { CallEnd, CallSession, CallState, IncomingCall } from '../call/session.js';

export type EntryKey = `dm:${number}` | `group:${number}` | 'feed';

export interface Entry {
  key: EntryKey;
  label: string;
  unread: number;
  /** Online state for a person; undefined for groups and the feed. */
  online?: boolean;
}

/** A line of a conversation: a message, maybe still on its way. */
export interface ChatLine {
  key: string;
  mine: boolean;
  sender: string;
  content: string;
  createdAt: string;
  /** Own messages: sending → sent (acknowledged) → read (direct messages only); `failed` with the reason. */
  mark: 'sending' | 'sent' | 'read' | 'failed' | null;
  error?: string;
}

export type CallView =
  | { phase: 'incoming'; incoming: IncomingCall }
  | { phase: 'call'; peer: string; state: CallState; seconds: number };

export interface Snapshot {
  me: string;
  entries: Entry[];
  open: EntryKey;
  lines: ChatLine[];
  posts: Post[];
  /** Who is typing in the open conversation. */
  typing: string[];
  status: RealtimeStatus;
  /** The last thing worth telling (an error, how a call ended); cleared by the next action. */
  notice: string | null;
  loading: boolean;
  call: CallView | null;
}

interface DmPerson {
  user: NestedUser;
  online: boolean;
  unread: number;
  lastAt: string;
}

interface PendingLine extends ChatLine {
  clientId: string;
}

export interface ChatModelOptions {
  api: JvaiClient;
  /** The logged-in user's name (the session knows it). */
  username: string;
  realtime?: RealtimeOptions;
  /** Where calls get their audio (WAV files instead of the sound tools). */
  audio?: AudioOptions;
}

const TYPING_SEND_EVERY_MS = 3_000;
const TYPING_IDLE_MS = 2_500;
/** A typing notice whose "stopped" never came (the typist vanished) expires. */
const TYPING_SHOWN_MS = 6_000;
const HISTORY = 50;
const FEED_POSTS = 20;

export class ChatModel extends EventEmitter<{ change: []; quit: [] }> {
  readonly api: JvaiClient;
  readonly realtime: RealtimeClient;
  snapshot: Snapshot;

  private readonly me: number;
  private readonly options: ChatModelOptions;
  private people = new Map<number, DmPerson>();
  private groups: (Group & { unread: number })[] = [];
  private dms = new Map<number, DirectMessage[]>();
  private groupMessages = new Map<number, GroupMessage[]>();
  private pending = new Map<EntryKey, PendingLine[]>();
  private posts: Post[] = [];
  private open: EntryKey = 'feed';
  private typingIn = new Map<EntryKey, Map<string, NodeJS.Timeout>>();
  private typingOut: { key: EntryKey; sentAt: number; idle: NodeJS.Timeout } | null = null;
  private notice: string | null = null;
  private loading = true;
  private incoming: IncomingCall | null = null;
  private session: CallSession | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Set by the first connect: any later one is a reconnect. */
  private connectedBefore = false;

  constructor(options: ChatModelOptions) {
    super();
    this.options = options;
    this.api = options.api;
    const me = options.api.userId;
    if (me === null) throw new Error('not logged in: run `jvai login`');
    this.me = me;
    this.realtime = new RealtimeClient(options.api, options.realtime);
    this.snapshot = this.build();
  }

  /** Connects, then loads (events arriving meanwhile are merged by id, so none falls in between). */
  async start(): Promise<void> {
    const rt = this.realtime;
    rt.on('status', (s) => this.onStatus(s));
    rt.on('dm:new', (m) => this.onDm(m));
    rt.on('dm:read', (m) => this.onDmRead(m));
    rt.on('group:message', (m) => this.onGroupMessage(m));
    rt.on('group:joined', (e) => e.user_id === this.me && void this.reloadGroups());
    rt.on('group:left', (e) => e.user_id === this.me && this.dropGroup(e.group_id));
    rt.on('group:deleted', (e) => this.dropGroup(e.group_id));
    rt.on('presence', (e) => this.onPresence(e));
    rt.on('typing', (e) => this.onTyping(e));
    rt.on('post:created', (e) => void this.onPostCreated(e));
    rt.on('call:started', (e) => this.onCallStarted(e));
    for (const ended of ['call:accepted', 'call:rejected', 'call:ended', 'call:missed'] as const) rt.on(ended, (e) => this.onCallOver(e));
    rt.on('resync', () => void this.reload());
    rt.start();
    await this.reload();
  }

  /** Stops everything: hangs up a call, disconnects, clears timers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopTicker();
    if (this.typingOut) clearTimeout(this.typingOut.idle);
    for (const timers of this.typingIn.values()) for (const t of timers.values()) clearTimeout(t);
    const session = this.session;
    if (session) await session.hangUp().catch(() => undefined);
    this.realtime.close();
  }

  /** Asks the view to quit (it calls stop() and unmounts). */
  quit(): void {
    this.emit('quit');
  }

  // ---- loading ----

  /** Everything from REST: the lists, and the open conversation again (after a resync too). */
  private async reload(): Promise<void> {
    await this.guard(async () => {
      const [conversations] = await Promise.all([this.api.conversations(200), this.reloadGroups()]);
      this.people = new Map(conversations.map((c) => [c.user.id, this.personOf(c)]));
      this.dms.clear();
      this.groupMessages.clear();
      await this.load(this.open);
    });
    this.loading = false;
    this.changed();
  }

  private personOf(c: Conversation): DmPerson {
    const user: NestedUser = { id: c.user.id, username: c.user.username, full_name: c.user.full_name };
    return { user, online: c.user.is_online, unread: c.unread_count, lastAt: c.last_message.created_at };
  }

  private async reloadGroups(): Promise<void> {
    const unread = new Map(this.groups.map((g) => [g.id, g.unread]));
    this.groups = (await this.api.myGroups(200)).map((g) => ({ ...g, unread: unread.get(g.id) ?? 0 }));
    this.changed();
  }

  private async load(key: EntryKey): Promise<void> {
    const [kind, id] = parseKey(key);
    if (kind === 'dm') {
      const history = await this.api.conversationWith({ id }, HISTORY);
      this.dms.set(id, mergeById(this.dms.get(id) ?? [], history));
    } else if (kind === 'group') {
      const history = (await this.api.groupMessages(id, HISTORY)).reverse();
      this.groupMessages.set(id, mergeById(this.groupMessages.get(id) ?? [], history));
    } else this.posts = await this.api.feed(FEED_POSTS);
  }

  // ---- actions ----

  /** Shows a conversation, a group or the feed; received direct messages shown are marked read. */
  async openEntry(key: EntryKey): Promise<void> {
    this.notice = null;
    this.stopTyping();
    this.open = key;
    const [kind, id] = parseKey(key);
    if (kind === 'group') {
      const group = this.groups.find((g) => g.id === id);
      if (group) group.unread = 0;
    }
    this.changed();
    const cached = kind === 'dm' ? this.dms.has(id) : kind === 'group' ? this.groupMessages.has(id) : false;
    if (!cached) await this.guard(() => this.load(key));
    this.markShownRead();
    this.changed();
  }

  /** `n`: a direct message to a username: finds the user and opens the conversation. */
  async newConversation(username: string): Promise<boolean> {
    const name = username.trim().replace(/^@/, '');
    if (!name) return false;
    const user = await this.guard(() => this.api.findUser(name));
    if (user === undefined) return false;
    if (!user) return this.tell(`no user named "${name}"`);
    if (user.id === this.me) return this.tell('that is you');
    if (!this.people.has(user.id)) {
      this.people.set(user.id, { user: { id: user.id, username: user.username, full_name: user.full_name }, online: user.is_online, unread: 0, lastAt: new Date().toISOString() });
    }
    await this.openEntry(`dm:${user.id}`);
    return true;
  }

  /** Sends to the open conversation or group, acknowledged over the channel; shown as sending until then. */
  async send(text: string): Promise<void> {
    const content = text.trim();
    const key = this.open;
    const [kind, id] = parseKey(key);
    if (!content || kind === 'feed') return;
    this.notice = null;
    this.stopTyping();
    const clientId = crypto.randomUUID();
    const line: PendingLine = { key: `pending:${clientId}`, clientId, mine: true, sender: 'you', content, createdAt: new Date().toISOString(), mark: 'sending' };
    this.pending.set(key, [...(this.pending.get(key) ?? []), line]);
    this.changed();
    try {
      if (kind === 'dm') this.onDm(await this.realtime.sendDm(id, content, clientId));
      else this.onGroupMessage(await this.realtime.sendGroup(id, content, clientId));
      this.pending.set(key, (this.pending.get(key) ?? []).filter((p) => p !== line));
    } catch (err) {
      line.mark = 'failed';
      line.error = (err as Error).message;
    }
    this.changed();
  }

  /** The input line changed: tells the other side we type (at most every few seconds) and when we stop. */
  typed(text: string): void {
    const key = this.open;
    if (key === 'feed') return;
    if (!text) return this.stopTyping();
    const now = Date.now();
    const out = this.typingOut;
    if (out && out.key === key) {
      clearTimeout(out.idle);
      out.idle = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
      if (now - out.sentAt < TYPING_SEND_EVERY_MS) return;
      out.sentAt = now;
    } else {
      this.stopTyping();
      this.typingOut = { key, sentAt: now, idle: setTimeout(() => this.stopTyping(), TYPING_IDLE_MS) };
    }
    this.sendTyping(key, true);
  }

  private stopTyping(): void {
    const out = this.typingOut;
    if (!out) return;
    clearTimeout(out.idle);
    this.typingOut = null;
    this.sendTyping(out.key, false);
  }

  private sendTyping(key: EntryKey, isTyping: boolean): void {
    const [kind, id] = parseKey(key);
    if (kind === 'dm') this.realtime.typing({ to_user: id, is_typing: isTyping });
    else if (kind === 'group') this.realtime.typing({ group_id: id, is_typing: isTyping });
  }

  // ---- live events ----

  private onDm(m: DirectMessage): void {
    const mine = m.sender === this.me;
    const otherId = mine ? m.receiver : m.sender;
    let person = this.people.get(otherId);
    if (!person) {
      person = { user: { id: otherId, username: mine ? m.receiver_username : m.sender_username, full_name: '' }, online: !mine, unread: 0, lastAt: m.created_at };
      this.people.set(otherId, person);
    }
    const cached = this.dms.get(otherId);
    const known = cached?.some((c) => c.id === m.id) ?? false;
    if (cached) this.dms.set(otherId, mergeById(cached, [m]));
    if (m.created_at > person.lastAt) person.lastAt = m.created_at;
    if (!mine) this.clearTyping(`dm:${otherId}`, m.sender_username);
    if (!mine && !m.is_read && !known) {
      if (this.open === `dm:${otherId}` && cached) this.markShownRead();
      else person.unread++;
    }
    this.changed();
  }

  private onDmRead(m: DirectMessage): void {
    const otherId = m.sender === this.me ? m.receiver : m.sender;
    const cached = this.dms.get(otherId);
    const before = cached?.find((c) => c.id === m.id);
    if (cached) this.dms.set(otherId, mergeById(cached, [m]));
    // Read on another device: one fewer unread here.
    const person = this.people.get(otherId);
    if (person && m.receiver === this.me && !before?.is_read && person.unread > 0) person.unread--;
    this.changed();
  }

  private onGroupMessage(m: GroupMessage): void {
    const cached = this.groupMessages.get(m.group);
    const known = cached?.some((c) => c.id === m.id) ?? false;
    if (cached) this.groupMessages.set(m.group, mergeById(cached, [m]));
    if (m.sender !== this.me) {
      this.clearTyping(`group:${m.group}`, m.sender_username);
      const group = this.groups.find((g) => g.id === m.group);
      if (group && !known && this.open !== `group:${m.group}`) group.unread++;
    }
    this.changed();
  }

  private dropGroup(groupId: number): void {
    this.groups = this.groups.filter((g) => g.id !== groupId);
    this.groupMessages.delete(groupId);
    if (this.open === `group:${groupId}`) void this.openEntry('feed');
    this.changed();
  }

  /** Post events are not replayed: after a reconnect the shown feed is re-read instead. */
  private onStatus(status: RealtimeStatus): void {
    if (status.state === 'connected') {
      if (this.connectedBefore && this.open === 'feed') void this.guard(() => this.load('feed')).then(() => this.changed());
      this.connectedBefore = true;
    }
    this.changed();
  }

  /** A post by someone followed (or by us elsewhere): fetched and put in the shown feed. The feed is loaded anew whenever opened. */
  private async onPostCreated(e: PostCreatedEvent): Promise<void> {
    if (this.open !== 'feed') return;
    let post: Post;
    try {
      post = await this.api.post(e.post_id);
    } catch {
      // Deleted meanwhile, or the server went away: the next load of the feed shows the truth.
      return;
    }
    this.posts = mergeById(this.posts, [post]).reverse().slice(0, FEED_POSTS);
    this.changed();
  }

  private onPresence(e: PresenceEvent): void {
    const person = this.people.get(e.user_id);
    if (person) person.online = e.is_online;
    this.changed();
  }

  private onTyping(e: TypingEvent): void {
    const key: EntryKey = e.group_id !== null ? `group:${e.group_id}` : `dm:${e.from_user}`;
    if (!e.is_typing) return this.clearTyping(key, e.username);
    const typists = this.typingIn.get(key) ?? new Map<string, NodeJS.Timeout>();
    clearTimeout(typists.get(e.username));
    typists.set(
      e.username,
      setTimeout(() => this.clearTyping(key, e.username), TYPING_SHOWN_MS),
    );
    this.typingIn.set(key, typists);
    this.changed();
  }

  private clearTyping(key: EntryKey, username: string): void {
    const typists = this.typingIn.get(key);
    if (!typists?.has(username)) return;
    clearTimeout(typists.get(username));
    typists.delete(username);
    this.changed();
  }

  /** Marks the open conversation's received, unread messages read (each sender gets a receipt). */
  private markShownRead(): void {
    const [kind, id] = parseKey(this.open);
    if (kind !== 'dm') return;
    const unread = (this.dms.get(id) ?? []).filter((m) => m.receiver === this.me && !m.is_read);
    const person = this.people.get(id);
    if (person) person.unread = 0;
    for (const m of unread) {
      m.is_read = true;
      void this.realtime.markRead(m.id).catch((err: Error) => this.tell(`could not mark #${m.id} read: ${err.message}`));
    }
  }

  // ---- calls ----

  private onCallStarted(e: CallEvent): void {
    if (e.call.callee.id !== this.me || this.incoming || this.session) return;
    this.incoming = { callId: e.call.id, caller: e.call.caller, callType: e.call.call_type };
    this.changed();
  }

  /** The ringing call was answered elsewhere, or hung up, or timed out: the popup goes. */
  private onCallOver(e: CallEvent): void {
    if (this.incoming?.callId !== e.call.id) return;
    this.incoming = null;
    if (e.call.status === 'missed') this.notice = `missed call from ${e.call.caller.username}`;
    this.changed();
  }

  /** `c`: calls the person of the selected conversation. */
  async callUser(userId: number): Promise<void> {
    if (this.session || this.incoming) return void this.tell('already in a call');
    const session = await this.newSession(true);
    if (!session) return;
    await this.begin(session, () => session.place({ id: userId }));
    if (await session.calleeOffline()) this.tell(`${session.peer?.username ?? 'they'} is offline: ringing anyway`);
  }

  /** `a`: answers the ringing call. */
  async accept(): Promise<void> {
    const incoming = this.incoming;
    if (!incoming) return;
    this.incoming = null;
    const session = await this.newSession(true);
    if (session) await this.begin(session, () => session.accept(incoming));
  }

  /** Opens the session and places or accepts the call; a session that never got a call is dropped quietly. */
  private async begin(session: CallSession, start: () => Promise<unknown>): Promise<void> {
    const ok = await this.guard(async () => {
      await session.open();
      await start();
      return true;
    });
    if (!ok && session.state === 'idle') {
      // The notice says what failed; the session's own "ended" would only hide it.
      session.removeAllListeners();
      this.session = null;
      await session.close();
    }
    this.changed();
  }

  /** `r`: declines the ringing call (no audio is opened for that). */
  async reject(): Promise<void> {
    const incoming = this.incoming;
    if (!incoming) return;
    this.incoming = null;
    const session = await this.newSession(false);
    if (session) await this.guard(() => session.reject(incoming));
    this.changed();
  }

  /** `h`: hangs up the call. */
  async hangUp(): Promise<void> {
    await this.session?.hangUp();
  }

  private async newSession(withAudio: boolean): Promise<CallSession | null> {
    const [{ CallSession }, audioModule, { loadWebRtc }] = await Promise.all([import('../call/session.js'), import('../call/audio.js'), import('../call/webrtc.js')]);
    let audio: { source: import('../call/audio.js').AudioSource; sink: import('../call/audio.js').AudioSink; notice?: string };
    try {
      // Media needs node-webrtc: find out it is missing before a call rings anywhere.
      if (withAudio) await loadWebRtc();
      audio = withAudio
        ? audioModule.openAudio({ ...this.options.audio, problem: (message) => this.tell(message) })
        : { source: new audioModule.SilenceSource(), sink: new audioModule.DiscardSink() };
    } catch (err) {
      this.tell((err as Error).message);
      return null;
    }
    if (audio.notice) this.notice = audio.notice;
    const session = new CallSession({ api: this.api, source: audio.source, sink: audio.sink });
    this.session = session;
    session.on('warning', (message) => this.tell(message));
    session.on('state', (state) => {
      if (state === 'connected') this.ticker = setInterval(() => this.changed(), 1_000);
      this.changed();
    });
    session.on('ended', (end) => {
      this.stopTicker();
      if (this.session === session) this.session = null;
      this.tell(describeEnd(end, session.peer?.username ?? 'the other side'));
    });
    return session;
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  // ---- plumbing ----

  /** Runs an action; a failure becomes the notice (and undefined) instead of an exception. */
  private async guard<T>(action: () => Promise<T>): Promise<T | undefined> {
    try {
      return await action();
    } catch (err) {
      this.tell((err as Error).message);
      return undefined;
    }
  }

  private tell(notice: string): false {
    this.notice = notice;
    this.changed();
    return false;
  }

  private changed(): void {
    if (this.stopped) return;
    this.snapshot = this.build();
    this.emit('change');
  }

  private build(): Snapshot {
    const people = [...this.people.values()].sort((a, b) => (a.lastAt < b.lastAt ? 1 : a.lastAt > b.lastAt ? -1 : 0));
    const entries: Entry[] = [
      { key: 'feed', label: 'Feed', unread: 0 },
      ...people.map((p): Entry => ({ key: `dm:${p.user.id}`, label: p.user.username, unread: p.unread, online: p.online })),
      ...this.groups.map((g): Entry => ({ key: `group:${g.id}`, label: `# ${g.name}`, unread: g.unread })),
    ];
    const session = this.session;
    const call: CallView | null = this.incoming
      ? { phase: 'incoming', incoming: this.incoming }
      : session
        ? { phase: 'call', peer: session.peer?.username ?? '…', state: session.state, seconds: session.talkSeconds }
        : null;
    return {
      me: this.options.username,
      entries,
      open: this.open,
      lines: this.lines(),
      posts: this.posts,
      typing: [...(this.typingIn.get(this.open)?.keys() ?? [])],
      status: this.realtime.status,
      notice: this.notice,
      loading: this.loading,
      call,
    };
  }

  private lines(): ChatLine[] {
    const [kind, id] = parseKey(this.open);
    const pending = this.pending.get(this.open) ?? [];
    if (kind === 'dm') {
      const sent = (this.dms.get(id) ?? []).map((m): ChatLine => {
        const mine = m.sender === this.me;
        return { key: `m:${m.id}`, mine, sender: mine ? 'you' : m.sender_username, content: m.content, createdAt: m.created_at, mark: mine ? (m.is_read ? 'read' : 'sent') : null };
      });
      return [...sent, ...pending];
    }
    if (kind === 'group') {
      const sent = (this.groupMessages.get(id) ?? []).map((m): ChatLine => {
        const mine = m.sender === this.me;
        return { key: `g:${m.id}`, mine, sender: mine ? 'you' : m.sender_username, content: m.content, createdAt: m.created_at, mark: mine ? 'sent' : null };
      });
      return [...sent, ...pending];
    }
    return [];
  }
}

export function parseKey(key: EntryKey): ['dm' | 'group', number] | ['feed', 0] {
  if (key === 'feed') return ['feed', 0];
  const [kind, id] = key.split(':');
  return [kind as 'dm' | 'group', Number(id)];
}

/** Adds or replaces messages by id, keeping them oldest first. */
function mergeById<M extends { id: number }>(list: M[], incoming: M[]): M[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

function describeEnd(end: CallEnd, peer: string): string {
  switch (end.reason) {
    case 'hangup':
    case 'remote-hangup':
      return end.talkSeconds ? `call with ${peer} ended after ${duration(end.talkSeconds)}` : `call with ${peer} ended`;
    case 'rejected':
      return `call with ${peer} rejected`;
    case 'missed':
      return `call with ${peer} missed`;
    case 'lost':
    case 'failed':
      return `call with ${peer} ${end.reason}: ${end.detail ?? 'unknown cause'}`;
  }
}
