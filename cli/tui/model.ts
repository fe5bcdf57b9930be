/**
 * What `jvai chat` shows and does, without the drawing. The parts each keep one concern —
 * direct messages, groups, the feed, typing, calls — and this model ties them together: which
 * entry is open, messages on their way, the connection and what a reconnect reloads. REST loads
 * the lists and histories; the socket.io channel (RealtimeClient) keeps them live and carries
 * sends, read marks and typing. The ink view (./App.tsx) renders `snapshot` and calls the
 * actions; every change replaces the snapshot and emits 'change'.
 */
import { EventEmitter } from 'node:events';
import crypto from 'node:crypto';
import type { JvaiClient } from '../client/api.js';
import type { Post } from '../client/types.js';
import { RealtimeClient, type RealtimeOptions, type RealtimeStatus } from '../client/realtime.js';
import type { AudioOptions } from '../call/audio.js';
import type { ChatContext } from './context.js';
import { parseKey, type ChatLine, type Entry, type EntryKey } from './entries.js';
import { DirectMessages } from './directMessages.js';
import { GroupChats } from './groupChats.js';
import { Feed } from './feed.js';
import { Typing } from './typing.js';
import { Calls, type CallView } from './calls.js';

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

export class ChatModel extends EventEmitter<{ change: []; quit: [] }> {
  readonly api: JvaiClient;
  readonly realtime: RealtimeClient;
  readonly calls: Calls;
  snapshot: Snapshot;

  private readonly me: number;
  private readonly username: string;
  private readonly dms: DirectMessages;
  private readonly groups: GroupChats;
  private readonly feed: Feed;
  private readonly typing: Typing;
  private pending = new Map<EntryKey, PendingLine[]>();
  private open: EntryKey = 'feed';
  private notice: string | null = null;
  private loading = true;
  private stopped = false;
  /** Set by the first connect: any later one is a reconnect. */
  private connectedBefore = false;

  constructor(options: ChatModelOptions) {
    super();
    this.api = options.api;
    this.username = options.username;
    const me = options.api.userId;
    if (me === null) throw new Error('not logged in: run `jvai login`');
    this.me = me;
    this.realtime = new RealtimeClient(options.api, options.realtime);
    const model = this;
    const chat: ChatContext = {
      api: this.api,
      realtime: this.realtime,
      me,
      get open() {
        return model.open;
      },
      changed: () => this.changed(),
      tell: (notice) => this.tell(notice),
      guard: (action) => this.guard(action),
    };
    this.dms = new DirectMessages(chat);
    this.groups = new GroupChats(chat);
    this.feed = new Feed(chat);
    this.typing = new Typing(chat);
    this.calls = new Calls(chat, options.audio);
    this.snapshot = this.build();
  }

  /** Connects, then loads (events arriving meanwhile are merged by id, so none falls in between). */
  async start(): Promise<void> {
    const rt = this.realtime;
    rt.on('status', (s) => this.onStatus(s));
    rt.on('dm:new', (m) => {
      if (m.sender !== this.me) this.typing.clear(`dm:${m.sender}`, m.sender_username);
      this.dms.received(m);
    });
    rt.on('dm:read', (m) => this.dms.read(m));
    rt.on('group:message', (m) => {
      if (m.sender !== this.me) this.typing.clear(`group:${m.group}`, m.sender_username);
      this.groups.received(m);
    });
    rt.on('group:joined', (e) => e.user_id === this.me && void this.groups.reload());
    rt.on('group:left', (e) => e.user_id === this.me && this.dropGroup(e.group_id));
    rt.on('group:deleted', (e) => this.dropGroup(e.group_id));
    rt.on('presence', (e) => this.dms.online(e.user_id, e.is_online));
    rt.on('typing', (e) => this.typing.heard(e));
    rt.on('post:created', (e) => void this.feed.created(e));
    rt.on('call:started', (e) => this.calls.started(e));
    for (const ended of ['call:accepted', 'call:rejected', 'call:ended', 'call:missed'] as const) rt.on(ended, (e) => this.calls.over(e));
    rt.on('resync', () => void this.reload());
    rt.start();
    await this.reload();
  }

  /** Stops everything: hangs up a call, disconnects, clears timers. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.typing.dispose();
    await this.calls.stop();
    this.realtime.close();
  }

  /** Asks the view to quit (it calls stop() and unmounts). */
  quit(): void {
    this.emit('quit');
  }

  /** Everything from REST: the lists, and the open conversation again (after a resync too). */
  private async reload(): Promise<void> {
    await this.guard(async () => {
      await Promise.all([this.dms.reload(), this.groups.reload()]);
      this.groups.forgetHistories();
      await this.load(this.open);
    });
    this.loading = false;
    this.changed();
  }

  private async load(key: EntryKey): Promise<void> {
    const [kind, id] = parseKey(key);
    if (kind === 'dm') await this.dms.load(id);
    else if (kind === 'group') await this.groups.load(id);
    else await this.feed.load();
  }

  /** Shows a conversation, a group or the feed; received direct messages shown are marked read. */
  async openEntry(key: EntryKey): Promise<void> {
    this.notice = null;
    this.typing.stop();
    this.open = key;
    const [kind, id] = parseKey(key);
    if (kind === 'group') this.groups.opened(id);
    this.changed();
    const cached = kind === 'dm' ? this.dms.has(id) : kind === 'group' ? this.groups.has(id) : false;
    if (!cached) await this.guard(() => this.load(key));
    this.dms.markShownRead();
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
    this.dms.add(user);
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
    this.typing.stop();
    const clientId = crypto.randomUUID();
    const line: PendingLine = { key: `pending:${clientId}`, clientId, mine: true, sender: 'you', content, createdAt: new Date().toISOString(), mark: 'sending' };
    this.pending.set(key, [...(this.pending.get(key) ?? []), line]);
    this.changed();
    try {
      if (kind === 'dm') this.dms.received(await this.realtime.sendDm(id, content, clientId));
      else this.groups.received(await this.realtime.sendGroup(id, content, clientId));
      this.pending.set(key, (this.pending.get(key) ?? []).filter((p) => p !== line));
    } catch (err) {
      line.mark = 'failed';
      line.error = (err as Error).message;
    }
    this.changed();
  }

  /** The input line changed (see Typing). */
  typed(text: string): void {
    this.typing.typed(text);
  }

  private dropGroup(groupId: number): void {
    this.groups.drop(groupId);
    if (this.open === `group:${groupId}`) void this.openEntry('feed');
    this.changed();
  }

  /** Post events are not replayed: after a reconnect the shown feed is re-read instead. */
  private onStatus(status: RealtimeStatus): void {
    if (status.state === 'connected') {
      if (this.connectedBefore && this.open === 'feed') void this.guard(() => this.feed.load()).then(() => this.changed());
      this.connectedBefore = true;
    }
    this.changed();
  }

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
    return {
      me: this.username,
      entries: [{ key: 'feed', label: 'Feed', unread: 0 }, ...this.dms.entries(), ...this.groups.entries()],
      open: this.open,
      lines: this.lines(),
      posts: this.feed.posts,
      typing: this.typing.in(this.open),
      status: this.realtime.status,
      notice: this.notice,
      loading: this.loading,
      call: this.calls.view(),
    };
  }

  private lines(): ChatLine[] {
    const [kind, id] = parseKey(this.open);
    if (kind === 'feed') return [];
    const sent = kind === 'dm' ? this.dms.lines(id) : this.groups.lines(id);
    return [...sent, ...(this.pending.get(this.open) ?? [])];
  }
}
