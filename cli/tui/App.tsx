/**
 * The `jvai chat` screen (ink): the list of conversations, groups and the feed on the left,
 * the open one on the right with the input line, a call popup, the connection status and a
 * help line. All state lives in the ChatModel; this file only draws it and maps keys to it.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { Box, Text, useApp, useInput, useStdout } from 'ink';
import TextInput from 'ink-text-input';
import { ago, duration, plural } from '../client/format.js';
import type { ChatModel, Snapshot } from './model.js';
import { parseKey, type ChatLine, type Entry } from './entries.js';
import type { CallView } from './calls.js';

type Focus = 'list' | 'input';
/** What the input line is for: a message, or the username of a new conversation (`n`). */
type Prompt = 'message' | 'to';

interface UiState {
  focus: Focus;
  prompt: Prompt;
  /** The selected entry's key (not its index: the list reorders as messages arrive). */
  selected: string;
}

/**
 * The screen's own state, readable at once after a change: keys can arrive faster than React
 * renders (a held arrow, then Enter), and each must see what the previous one did.
 */
function useUiState(initial: UiState): [{ readonly current: UiState }, (patch: Partial<UiState>) => void] {
  const ref = useRef(initial);
  const [, rerender] = useState(0);
  const update = (patch: Partial<UiState>) => {
    ref.current = { ...ref.current, ...patch };
    rerender((n) => n + 1);
  };
  return [ref, update];
}

const LIST_WIDTH = 28;
/** Relative times ("5m ago") are redrawn this often; nothing else needs a clock. */
const CLOCK_MS = 30_000;

/** Where "now" comes from for relative times, and how often they are redrawn (tests speed it up). */
export interface Clock {
  now(): number;
  everyMs: number;
}

const systemClock: Clock = { now: Date.now, everyMs: CLOCK_MS };

/** The terminal's height, following resizes (ink re-lays out the width by itself, but not our height). */
function useRows(): number {
  const { stdout } = useStdout();
  const [rows, setRows] = useState(stdout.rows || 24);
  useEffect(() => {
    const onResize = () => setRows(stdout.rows || 24);
    stdout.on('resize', onResize);
    // A resize between the first render and this effect would otherwise be missed.
    onResize();
    return () => void stdout.off('resize', onResize);
  }, [stdout]);
  return Math.max(12, rows);
}

/** The clock's time, updated every `clock.everyMs` while the caller is mounted. */
function useNow(clock: Clock): number {
  const [now, setNow] = useState(clock.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(clock.now()), clock.everyMs);
    return () => clearInterval(timer);
  }, [clock]);
  return now;
}

export function App({ model, clock = systemClock }: { model: ChatModel; clock?: Clock }) {
  const snap = useSyncExternalStore(
    (onChange) => {
      model.on('change', onChange);
      return () => void model.off('change', onChange);
    },
    () => model.snapshot,
  );
  const { exit } = useApp();
  const rows = useRows();
  const [uiRef, setUi] = useUiState({ focus: 'list', prompt: 'message', selected: 'feed' });
  const ui = uiRef.current;
  const { focus, prompt } = ui;
  const [text, setTextState] = useState('');
  // Enter right after a paste can reach the input before it re-rendered with the pasted text.
  const textRef = useRef('');
  const setText = (value: string) => {
    textRef.current = value;
    setTextState(value);
  };

  useEffect(() => {
    const quit = () => void model.stop().then(() => exit());
    model.on('quit', quit);
    void model.start();
    return () => {
      model.off('quit', quit);
      void model.stop();
    };
  }, [model, exit]);

  const selectedIndex = (s: Snapshot, key: string) => Math.max(0, s.entries.findIndex((e) => e.key === key));
  const index = selectedIndex(snap, ui.selected);
  const ringing = snap.call?.phase === 'incoming';

  useInput((input, key) => {
    // The latest state, not this render's: see useUiState.
    const now = model.snapshot;
    const { focus, prompt, selected } = uiRef.current;
    const at = selectedIndex(now, selected);
    const entry = now.entries[at];
    if (key.ctrl && input === 'c') return model.quit();
    if (now.call?.phase === 'incoming') {
      if (input === 'a') void model.calls.accept();
      else if (input === 'r') void model.calls.reject();
      return;
    }
    if (key.tab || key.escape) {
      if (key.escape && prompt === 'to') setText('');
      setUi({ prompt: 'message', focus: focus === 'list' && key.tab && now.open !== 'feed' ? 'input' : 'list' });
      return;
    }
    if (focus !== 'list') return;
    if (key.upArrow || key.downArrow) {
      const next = now.entries[Math.min(now.entries.length - 1, Math.max(0, at + (key.upArrow ? -1 : 1)))];
      if (next) setUi({ selected: next.key });
    } else if (key.return && entry) {
      void model.openEntry(entry.key);
      if (entry.key !== 'feed') setUi({ focus: 'input' });
    } else if (input === 'n') {
      setText('');
      setUi({ prompt: 'to', focus: 'input' });
    } else if (input === 'c' && entry) {
      const [kind, id] = parseKey(entry.key);
      if (kind === 'dm') void model.calls.callUser(id);
    } else if (input === 'h') void model.calls.hangUp();
    else if (input === 'q') model.quit();
  });

  const onChange = (value: string) => {
    setText(value);
    if (uiRef.current.prompt === 'message') model.typed(value);
  };
  const onSubmit = () => {
    const value = textRef.current;
    setText('');
    if (uiRef.current.prompt === 'to') {
      setUi({ prompt: 'message' });
      void model.newConversation(value).then((opened) => {
        if (opened) setUi({ selected: model.snapshot.open });
      });
    } else void model.send(value);
  };

  const paneHeight = rows - 3 - (snap.call ? 3 : 0);
  const title = snap.entries.find((e) => e.key === snap.open)?.label ?? '';
  return (
    <Box flexDirection="column" height={rows}>
      <Box height={paneHeight}>
        <Box width={LIST_WIDTH} flexShrink={0} borderStyle="round" borderColor={focus === 'list' ? 'cyan' : 'gray'} flexDirection="column" overflow="hidden">
          <Text bold>{snap.me} </Text>
          {visibleWindow(snap.entries, index, paneHeight - 3).map((e) => (
            <EntryRow key={e.key} entry={e} selected={e.key === snap.entries[index]?.key} open={e.key === snap.open} />
          ))}
        </Box>
        <Box flexGrow={1} borderStyle="round" borderColor={focus === 'input' ? 'cyan' : 'gray'} flexDirection="column">
          <Text bold>{title}</Text>
          {/* Conversations read upwards from the input line; the feed, newest first, from the top. */}
          <Box flexDirection="column" flexGrow={1} justifyContent={snap.open === 'feed' ? 'flex-start' : 'flex-end'} overflow="hidden">
            {snap.open === 'feed' ? <Feed snap={snap} clock={clock} /> : snap.lines.slice(-(paneHeight - 4)).map((line) => <Line key={line.key} line={line} />)}
          </Box>
          {snap.open !== 'feed' || prompt === 'to' ? (
            <>
              <Text dimColor>{snap.typing.length ? `${snap.typing.join(', ')} ${snap.typing.length === 1 ? 'is' : 'are'} typing…` : ' '}</Text>
              <Box>
                <Text color="cyan">{prompt === 'to' ? 'New DM to: ' : '> '}</Text>
                <TextInput value={text} onChange={onChange} onSubmit={onSubmit} focus={focus === 'input' && !ringing} />
              </Box>
            </>
          ) : null}
        </Box>
      </Box>
      {snap.call ? <CallBox call={snap.call} /> : null}
      <StatusLine snap={snap} />
      <Text dimColor>{help(focus, prompt, snap, snap.entries[index])}</Text>
    </Box>
  );
}

function EntryRow({ entry, selected, open }: { entry: Entry; selected: boolean; open: boolean }) {
  const marker = entry.online === undefined ? (entry.key === 'feed' ? '≡' : ' ') : entry.online ? '●' : '○';
  return (
    <Box>
      <Text color={selected ? 'cyan' : undefined}>{selected ? '› ' : '  '}</Text>
      <Text color={entry.online ? 'green' : 'gray'}>{marker} </Text>
      <Box flexGrow={1}>
        <Text bold={open} wrap="truncate-end">
          {entry.label}
        </Text>
      </Box>
      {entry.unread ? <Text color="yellow"> {entry.unread}</Text> : null}
    </Box>
  );
}

const MARKS: Record<NonNullable<ChatLine['mark']>, string> = { sending: '…', sent: '✓', read: '✓✓', failed: '✗' };

function Line({ line }: { line: ChatLine }) {
  const time = new Date(line.createdAt).toTimeString().slice(0, 5);
  return (
    <Text>
      <Text dimColor>{time} </Text>
      <Text bold color={line.mine ? 'cyan' : undefined}>
        {line.sender}:
      </Text>{' '}
      {line.content}
      {line.mark ? <Text color={line.mark === 'read' ? 'green' : line.mark === 'failed' ? 'red' : 'gray'}> {MARKS[line.mark]}</Text> : null}
      {line.error ? <Text color="red"> (not sent: {line.error})</Text> : null}
    </Text>
  );
}

function Feed({ snap, clock }: { snap: Snapshot; clock: Clock }) {
  const now = useNow(clock);
  if (!snap.posts.length) return <Text dimColor>{snap.loading ? 'loading…' : 'No posts yet: follow people to fill your feed.'}</Text>;
  return (
    <>
      {snap.posts.map((p) => (
        // Not shrinkable: when the posts overflow the pane, the last is cut off instead of every gap squeezed.
        <Box key={p.id} flexDirection="column" marginBottom={1} flexShrink={0}>
          <Text>
            <Text bold>{p.author_username}</Text>
            <Text dimColor>
              {' '}
              · {ago(p.created_at, now)} · {plural(p.likes_count, 'like')} · {plural(p.comments_count, 'comment')}
            </Text>
          </Text>
          {p.content ? <Text> {p.content}</Text> : null}
          {p.image ? <Text dimColor> [image] {p.image}</Text> : null}
        </Box>
      ))}
    </>
  );
}

function CallBox({ call }: { call: CallView }) {
  if (call.phase === 'incoming') {
    const { caller, callType } = call.incoming;
    return (
      <Box borderStyle="double" borderColor="yellow" paddingX={1}>
        <Text>
          Incoming {callType} call from <Text bold>{caller.username}</Text> — <Text color="green">a</Text>: accept <Text color="red">r</Text>: reject
        </Text>
      </Box>
    );
  }
  const what =
    call.state === 'connected'
      ? `in call with ${call.peer} ${duration(call.seconds)}`
      : call.state === 'ringing'
        ? `ringing ${call.peer}…`
        : call.state === 'connecting'
          ? `connecting to ${call.peer}…`
          : `call with ${call.peer}`;
  return (
    <Box borderStyle="round" borderColor="green" paddingX={1}>
      <Text>
        <Text color="green">● </Text>
        {what} — h: hang up
      </Text>
    </Box>
  );
}

function StatusLine({ snap }: { snap: Snapshot }) {
  const s = snap.status;
  let text: string;
  let color: string;
  if (s.state === 'connected') {
    color = 'green';
    text = 'connected';
    if (s.missed === null) text += ' · caught up: too much missed, reloaded';
    else if (s.missed !== undefined) text += ` · caught up: ${plural(s.missed, 'missed event')}`;
  } else if (s.state === 'reconnecting') {
    color = 'yellow';
    text = `reconnecting… (${s.reason})`;
  } else if (s.state === 'connecting') {
    color = 'yellow';
    text = 'connecting…';
  } else {
    color = 'red';
    text = `disconnected: ${s.reason}`;
  }
  return (
    <Text wrap="truncate-end">
      <Text color={color}>● {text}</Text>
      {snap.notice ? <Text color="magenta"> · {snap.notice}</Text> : null}
    </Text>
  );
}

/** The keys that do something right now, and only those. */
function help(focus: Focus, prompt: Prompt, snap: Snapshot, selected: Entry | undefined): string {
  if (snap.call?.phase === 'incoming') return 'a: accept  r: reject  Ctrl-C: quit';
  if (focus === 'input') return prompt === 'to' ? 'type a username  Enter: open  Esc: cancel' : 'Enter: send  Tab/Esc: back to the list  Ctrl-C: quit';
  const keys = [
    // The feed has no input line to go to.
    snap.open !== 'feed' && 'Tab: input',
    '↑/↓: select',
    'Enter: open',
    'n: new DM',
    selected && parseKey(selected.key)[0] === 'dm' && !snap.call && 'c: call',
    snap.call && 'h: hang up',
    'q: quit',
  ];
  return keys.filter(Boolean).join('  ');
}

/** The entries around the selected one that fit in `height` rows. */
function visibleWindow(entries: Entry[], selected: number, height: number): Entry[] {
  if (entries.length <= height) return entries;
  const start = Math.min(Math.max(0, selected - Math.floor(height / 2)), entries.length - height);
  return entries.slice(start, start + height);
}
