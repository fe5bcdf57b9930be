/** `jvai chat` (the ink TUI) driven through ink-testing-library against a real server and real users. */
import { createElement } from 'react';
import t from 'tap';
import type { Test } from 'tap';
import { render } from 'ink-testing-library';
import { io, type Socket } from 'socket.io-client';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { JvaiClient } from '../cli/client/api.js';
import { App, type Clock } from '../cli/tui/App.js';
import { ChatModel } from '../cli/tui/model.js';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/schemas/protocol.js';

const KEYS = { up: '\x1b[A', down: '\x1b[B', enter: '\r', tab: '\t', esc: '\x1b' };
/** The list pane's width (App.tsx). */
const LIST_WIDTH = 28;
const plain = (frame: string | undefined): string => (frame ?? '').replace(/\x1b\[[0-9;]*m/g, '');
/** The help line when the list has the focus. */
const LIST_HELP = '↑/↓: select';

/** `jvai chat` for one user, on a fake terminal, and the ways a test reads and drives it. */
function chat(t: Test, serverUrl: string, user: TestUser, clock?: Clock) {
  const client = new JvaiClient({ server: serverUrl, tokens: { access: user.access, refresh: user.refresh } });
  const model = new ChatModel({ api: client, username: user.username, realtime: { reconnectionDelayMs: 1500 } });
  const ui = render(createElement(App, { model, clock }));
  t.teardown(async () => {
    ui.unmount();
    await model.stop();
  });

  const frame = () => plain(ui.lastFrame());
  const until = async (what: string, test: (f: string) => boolean, timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = frame();
      if (test(f)) return f;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${f}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const shows = (text: string, timeoutMs?: number) => until(JSON.stringify(text), (f) => f.includes(text), timeoutMs);
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      ui.stdin.write(key);
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  /** The list pane's and the open pane's columns of the screen. */
  const list = () => frame().split('\n').map((l) => l.slice(0, LIST_WIDTH));
  const pane = () => frame().split('\n').map((l) => l.slice(LIST_WIDTH)).join('\n');
  /** Focuses the list (keys pressed before the screen shows that would still go to the input). */
  const toList = async () => {
    await press(KEYS.esc);
    await until('the list focused', (f) => f.includes(LIST_HELP));
  };
  /** Focuses the list, moves the selection to the entry labelled `label` and opens it. */
  const open = async (label: string) => {
    await toList();
    for (let i = 0; i < 12; i++) {
      const lines = list();
      const at = lines.findIndex((l) => l.includes('› '));
      if (lines[at]?.includes(label)) break;
      await press(lines.findIndex((l) => l.includes(label)) < at ? KEYS.up : KEYS.down);
    }
    await press(KEYS.enter);
  };
  /** Types into the input line (one chunk, as a paste arrives) and waits until it shows, then presses Enter. */
  const type = async (text: string) => {
    // The input listens from an effect that runs just after the frame showing it is drawn.
    await new Promise((r) => setTimeout(r, 100));
    await press(text);
    await until(`the input line to show ${text}`, () => pane().includes(`${text} `) && /(> |to: )\S/.test(pane()));
    await press(KEYS.enter);
  };
  return { model, ui, frame, until, shows, press, list, pane, toList, open, type };
}

t.test('jvai chat', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const [alice, bob, carol] = await Promise.all([makeUser(api), makeUser(api), makeUser(api)]);

  // Before the TUI starts: unread DMs from bob (2) and carol (1), and a group alice and bob are in.
  await bob.api.post('/api/messages/', { receiver: alice.id, content: 'first from bob' });
  await bob.api.post('/api/messages/', { receiver: alice.id, content: 'second from bob' });
  await carol.api.post('/api/messages/', { receiver: alice.id, content: 'hello from carol' });
  const group = (await alice.api.post('/api/groups/', { name: 'tui-crew' })).body;
  await bob.api.post(`/api/groups/${group.id}/join/`);

  const { model, frame, until, shows, press, list, pane, toList, open, type } = chat(t, server.url, alice);
  const socketOf = (who: TestUser): Promise<Socket<ServerToClientEvents, ClientToServerEvents>> => {
    const s: Socket<ServerToClientEvents, ClientToServerEvents> = io(server.url, { path: '/socket.io', auth: { token: who.access }, transports: ['websocket'], forceNew: true });
    t.teardown(() => s.disconnect());
    return new Promise((resolve, reject) => {
      s.once('connect', () => resolve(s));
      s.once('connect_error', reject);
    });
  };

  await t.test('the list shows conversations with unread counts, groups and the feed', async (t) => {
    const f = await until('the lists', (f) => f.includes(carol.username) && f.includes('# tui-crew') && f.includes('connected'));
    t.match(f, 'Feed');
    t.match(f, new RegExp(`${bob.username}\\s+2\\b`), 'two unread from bob');
    t.match(f, new RegExp(`${carol.username}\\s+1\\b`), 'one unread from carol');
    t.ok(f.indexOf(carol.username) < f.indexOf(bob.username), 'most recent conversation first');
    t.match(f, 'Enter: open', 'a help line');
  });

  await t.test('a post by someone followed appears in the open feed live, without polling', async (t) => {
    await shows('No posts yet');
    await alice.api.post(`/api/users/${carol.id}/follow/`);
    await bob.api.post('/api/posts/', { content: 'bob is not followed' });
    await carol.api.post('/api/posts/', { content: 'fresh from carol' });
    const f = await shows('fresh from carol', 3000);
    t.match(pane(), carol.username, 'with its author');
    t.notMatch(f, 'bob is not followed', 'only posts of people followed');
  });

  await t.test('opening a conversation shows it and marks it read; a new DM appears live', async (t) => {
    await open(bob.username);
    await shows('second from bob');
    await until('unread cleared', (f) => !new RegExp(`${bob.username}\\s+2\\b`).test(f));
    const read = async () => (await alice.api.get(`/api/messages/with_user/?user_id=${bob.id}`)).body.every((m: { is_read: boolean }) => m.is_read);
    for (let i = 0; i < 40 && !(await read()); i++) await new Promise((r) => setTimeout(r, 50));
    t.ok(await read(), 'what was shown is marked read on the server');

    await bob.api.post('/api/messages/', { receiver: alice.id, content: 'live from bob' });
    t.match(await shows('live from bob'), `${bob.username}: live from bob`);
  });

  await t.test('typing in the input sends a message the other user receives; their read shows ✓✓', async (t) => {
    await type('hi bob, from the TUI');
    await shows('you: hi bob, from the TUI ✓');
    const received = (await bob.api.get(`/api/messages/with_user/?user_id=${alice.id}`)).body as { id: number; content: string; sender: number }[];
    const sent = received.find((m) => m.content === 'hi bob, from the TUI');
    t.ok(sent, 'bob has it');
    t.equal(sent?.sender, alice.id);
    await bob.api.post(`/api/messages/${sent!.id}/mark_as_read/`);
    t.match(await shows('hi bob, from the TUI ✓✓'), 'hi bob, from the TUI ✓✓', 'the read receipt arrives');
  });

  await t.test("the other user's typing is shown", async (t) => {
    const b = await socketOf(bob);
    b.emit('typing', { to_user: alice.id, is_typing: true });
    t.match(await shows(`${bob.username} is typing…`), 'is typing…');
    b.emit('typing', { to_user: alice.id, is_typing: false });
    await until('typing gone', (f) => !f.includes('is typing…'));
  });

  await t.test('a group message appears live', async (t) => {
    await bob.api.post('/api/group-messages/', { group: group.id, content: 'unseen group message' });
    await until('the group unread count', (f) => /# tui-crew\s+1\b/.test(f));
    await open('# tui-crew');
    await shows('unseen group message');
    await bob.api.post('/api/group-messages/', { group: group.id, content: 'live in the group' });
    t.match(await shows('live in the group'), `${bob.username}: live in the group`);
    await type('hello crew');
    await shows('you: hello crew ✓');
    const messages = (await bob.api.get(`/api/group-messages/group_messages/?group_id=${group.id}`)).body as { content: string }[];
    t.ok(messages.some((m) => m.content === 'hello crew'), 'sent to the group');
  });

  await t.test('after a dropped connection it reconnects and catches up what was missed', async (t) => {
    await open(bob.username);
    await shows('live from bob');
    model.realtime.socket!.io.engine.close();
    await shows('reconnecting…');
    await bob.api.post('/api/messages/', { receiver: alice.id, content: 'sent while you were away' });
    const f = await shows('caught up: 1 missed event', 8000);
    t.match(f, 'sent while you were away', 'the missed message is in the open conversation');
    t.match(f, '● connected');
  });

  await t.test('an incoming call pops up; r rejects it on the server', async (t) => {
    const call = (await bob.api.post('/api/calls/', { receiver: alice.id })).body;
    t.match(await shows(`Incoming audio call from ${bob.username}`), 'a: accept');
    await press('r');
    await shows(`call with ${bob.username} rejected`);
    t.notMatch(frame(), 'Incoming audio call');
    t.equal((await alice.api.get(`/api/calls/${call.id}/`)).body.status, 'rejected');
  });

  await t.test('c calls the selected person, saying so when they are offline; h hangs up', async (t) => {
    await open(carol.username);
    await shows('hello from carol');
    await toList();
    await until('c offered', (f) => f.includes('c: call'));
    await press('c');
    await shows(`${carol.username} is offline: ringing anyway`);
    t.match(frame(), `ringing ${carol.username}…`, 'and it rings');
    await press('h');
    await shows(`call with ${carol.username} ended`);
    t.match((await carol.api.get('/api/calls/missed/')).body, [{ caller: { id: alice.id }, status: 'missed' }], 'a missed call for carol');
  });

  await t.test('n opens a conversation with a username; q quits', async (t) => {
    const dave = await makeUser(api);
    await toList();
    await press('n');
    await shows('New DM to:');
    await type(dave.username);
    await until('the new conversation', () => pane().includes(dave.username) && list().some((l) => l.includes(dave.username)));
    await type('hi dave');
    await shows('you: hi dave ✓');
    t.equal((await dave.api.get(`/api/messages/with_user/?user_id=${alice.id}`)).body[0]?.content, 'hi dave');
    await toList();
    await press('q');
    await until('the socket closed', () => model.realtime.status.state === 'closed');
    t.pass('quit');
  });
});

t.test('jvai chat: the feed', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const [dana, erin] = await Promise.all([makeUser(api), makeUser(api)]);
  await dana.api.post(`/api/users/${erin.id}/follow/`);
  await erin.api.post('/api/messages/', { receiver: dana.id, content: 'hi dana' });
  // Six posts fill the feed pane of a 24-row terminal exactly; a seventh overflows it.
  for (let i = 1; i <= 6; i++) await erin.api.post('/api/posts/', { content: `post ${i}` });
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset, everyMs: 50 };
  const { ui, frame, until, shows, press, list, pane } = chat(t, server.url, dana, clock);
  /** The last line drawn (the frame keeps one blank row below it). */
  const helpLine = () => frame().trimEnd().split('\n').at(-1) ?? '';
  const selected = (label: string) => until(`${label} selected`, () => list().some((l) => l.includes('› ') && l.includes(label)));

  await t.test('the help line offers only keys that work', async (t) => {
    await until('the feed', (f) => f.includes('post 1') && f.includes('● connected'));
    t.notMatch(helpLine(), 'Tab: input', 'the feed has no input line');
    t.notMatch(helpLine(), 'c: call', 'the feed is selected: nobody to call');
    t.match(helpLine(), `${LIST_HELP}  Enter: open  n: new DM  q: quit`);
    await press(KEYS.tab, KEYS.down);
    await selected(erin.username);
    t.match(helpLine(), 'c: call', 'a person selected: c calls them');
    t.notMatch(helpLine(), 'Tab: input', 'Tab left the focus on the list (the arrow moved the selection)');

    await press(KEYS.enter);
    await shows('hi dana');
    await until('the input focused', () => helpLine().includes('Enter: send'));
    await press(KEYS.tab);
    await until('the list focused', () => helpLine().includes('Tab: input'));
    await press(KEYS.tab);
    await until('Tab: input focuses the input', () => helpLine().includes('Enter: send'));

    await press(KEYS.esc, KEYS.up);
    await selected('Feed');
    await press(KEYS.enter);
    await shows('post 1');
    t.notMatch(helpLine(), 'Tab: input', 'back in the feed');
  });

  await t.test('relative times move on by themselves', async (t) => {
    await until('just now', () => pane().includes('just now'));
    offset = 5 * 60_000;
    await until('5m ago', () => pane().includes('5m ago') && !pane().includes('just now'));
    offset = 0;
    t.pass('redrawn without any other change');
  });

  await t.test('a live post keeps the spacing between posts', async (t) => {
    /** Rows between one post's header line and the next one's. */
    const gaps = () => {
      const heads = pane()
        .split('\n')
        .flatMap((l, i) => (l.includes(`${erin.username} · `) ? [i] : []));
      return heads.slice(1).map((at, i) => at - heads[i]!);
    };
    t.same(gaps(), [3, 3, 3, 3, 3], 'header, text, blank line');
    await erin.api.post('/api/posts/', { content: 'post 7' });
    await shows('post 7');
    t.same(gaps(), [3, 3, 3, 3, 3], 'the same with the pane overflowing: the oldest post is cut off instead');
  });

  await t.test('the layout follows a resized terminal, rows and columns', async (t) => {
    const stdout = ui.stdout as unknown as { rows?: number; emit(event: 'resize'): boolean };
    const resize = (columns: number, rows: number) => {
      Object.defineProperty(ui.stdout, 'columns', { value: columns, configurable: true });
      stdout.rows = rows;
      stdout.emit('resize');
    };
    t.equal(frame().split('\n').length, 24, 'the default height');
    for (const [columns, rows] of [
      [80, 20],
      [120, 35],
    ] as const) {
      resize(columns, rows);
      const lines = (await until(`${columns}×${rows}`, (f) => f.split('\n').length === rows && f.split('\n')[0]!.length === columns)).split('\n');
      t.match(lines[0], /^╭─+╮╭─+╮$/, `${columns}×${rows}: the top border is the first line`);
      t.match(lines[1], dana.username, 'then the header');
      t.ok(lines.every((l) => l.length <= columns), 'nothing wider than the terminal');
      t.match(lines.at(-2), LIST_HELP, 'the help line is the last');
    }
  });
});
