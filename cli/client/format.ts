/**
 * Human-readable rendering of API objects for the terminal: tables, relative times,
 * online dots, counts. Colour only on a terminal and never when NO_COLOR is set.
 */
import type { Call, Comment, Conversation, DirectMessage, Group, GroupMember, GroupMessage, Post, User } from './types.js';

const useColor = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
const paint = (code: string) => (s: string) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);

export const style = { bold: paint('1'), dim: paint('2'), green: paint('32'), yellow: paint('33'), cyan: paint('36') };

/** "just now", "5m ago", "3h ago", "2d ago"; a date once older than a month. */
export function ago(iso: string | null, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (seconds < 10) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  if (seconds < 30 * 86_400) return `${Math.floor(seconds / 86_400)}d ago`;
  return iso.slice(0, 10);
}

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A green dot for online, a dim circle for offline. */
export const dot = (online: boolean): string => (online ? style.green('●') : style.dim('○'));

const presence = (u: { is_online: boolean; last_seen: string | null }): string => (u.is_online ? 'online' : u.last_seen ? `seen ${ago(u.last_seen)}` : 'offline');

/** "m:ss" or "h:mm:ss". */
export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

const visibleLength = (s: string): number => s.replace(/\x1b\[[0-9;]*m/g, '').length;

/** Left-aligned columns separated by two spaces; the header is bold. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - visibleLength(c))))
      .join('  ')
      .trimEnd();
  return [style.bold(line(headers)), ...rows.map(line)].join('\n');
}

const indent = (text: string, by = '  '): string => text.split('\n').map((l) => by + l).join('\n');
const oneLine = (text: string, max = 60): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const edited = (o: { created_at: string; updated_at: string }) => (o.updated_at !== o.created_at ? ' (edited)' : '');

export const empty = (what: string): string => style.dim(`No ${what}.`);

export function users(list: User[]): string {
  if (!list.length) return empty('users');
  return table(
    ['', 'ID', 'USERNAME', 'NAME', 'FOLLOWERS', 'FOLLOWING', 'SEEN'],
    list.map((u) => [dot(u.is_online), String(u.id), u.username + (u.is_following ? style.cyan(' ✓') : ''), u.full_name, String(u.followers_count), String(u.following_count), presence(u)]),
  );
}

export function members(list: GroupMember[]): string {
  if (!list.length) return empty('members');
  return table(
    ['', 'ID', 'USERNAME', 'NAME', 'ROLE', 'SEEN'],
    list.map((u) => [dot(u.is_online), String(u.id), u.username, u.full_name, u.role, presence(u)]),
  );
}

export function profile(u: User, viewerId?: number): string {
  const lines = [`${dot(u.is_online)} ${style.bold(u.username)}${u.full_name ? ` (${u.full_name})` : ''}  ${style.dim(`#${u.id}`)}`];
  if (u.bio) lines.push(indent(u.bio));
  const relation = u.id === viewerId ? 'you' : u.is_following ? 'you follow them' : '';
  lines.push(`  ${plural(u.followers_count, 'follower')} · ${u.following_count} following${relation ? ` · ${relation}` : ''}`);
  lines.push(`  ${presence(u)}`);
  if (u.email) lines.push(`  ${u.email}`);
  if (u.profile_picture) lines.push(`  picture: ${u.profile_picture}`);
  return lines.join('\n');
}

export function post(p: Post): string {
  const head = [
    style.bold(`#${p.id}`),
    p.author_username,
    ago(p.created_at) + edited(p),
    plural(p.likes_count, 'like') + (p.user_liked ? ' (you)' : ''),
    plural(p.comments_count, 'comment'),
  ].join(style.dim(' · '));
  const body = [head];
  if (p.content) body.push(indent(p.content));
  if (p.image) body.push(indent(style.dim(`[image] ${p.image}`)));
  return body.join('\n');
}

export function posts(list: Post[]): string {
  return list.length ? list.map(post).join('\n\n') : empty('posts');
}

export function comment(c: Comment): string {
  const head = [style.bold(`#${c.id}`), c.author_username, ago(c.created_at) + edited(c), plural(c.likes_count, 'like') + (c.user_liked ? ' (you)' : '')].join(style.dim(' · '));
  return `${head}\n${indent(c.content)}`;
}

/** A post with its comments (the API sends the newest 50, oldest first). */
export function postWithComments(p: Post): string {
  if (!p.comments.length) return `${post(p)}\n\n${indent(empty('comments'))}`;
  const shown = p.comments.length < p.comments_count ? ` (the newest ${p.comments.length} of ${p.comments_count})` : '';
  return `${post(p)}\n\n  ${style.bold('Comments')}${shown}\n${p.comments.map((c) => indent(comment(c))).join('\n')}`;
}

export function groups(list: Group[]): string {
  if (!list.length) return empty('groups');
  return table(
    ['ID', 'NAME', 'MEMBERS', 'YOU', 'CREATOR', 'DESCRIPTION'],
    list.map((g) => [String(g.id), g.name, String(g.members_count), g.is_admin ? 'admin' : g.is_member ? 'member' : '', g.creator_username, oneLine(g.description, 50)]),
  );
}

export function group(g: Group): string {
  const role = g.is_admin ? 'you are an admin' : g.is_member ? 'you are a member' : 'you are not a member';
  const lines = [`${style.bold(g.name)}  ${style.dim(`#${g.id}`)}`];
  if (g.description) lines.push(indent(g.description));
  lines.push(`  ${plural(g.members_count, 'member')} · created by ${g.creator_username} ${ago(g.created_at)} · ${role}`);
  if (g.image) lines.push(indent(style.dim(`[image] ${g.image}`)));
  return lines.join('\n');
}

/** Group messages in reading order (the API sends the newest first). */
export function groupMessages(list: GroupMessage[]): string {
  if (!list.length) return empty('messages');
  return [...list]
    .reverse()
    .map((m) => `${style.dim(`#${m.id} ${ago(m.created_at)}`)}  ${style.bold(m.sender_username)}: ${m.content}`)
    .join('\n');
}

export function directMessage(m: DirectMessage, viewerId: number): string {
  const state = m.receiver === viewerId && !m.is_read ? style.yellow(' (unread)') : m.sender === viewerId && m.is_read ? style.dim(' (read)') : '';
  return `${style.dim(`#${m.id} ${ago(m.created_at)}`)}  ${style.bold(m.sender_username)} → ${m.receiver_username}: ${m.content}${state}`;
}

export function conversation(list: DirectMessage[], viewerId: number): string {
  return list.length ? list.map((m) => directMessage(m, viewerId)).join('\n') : empty('messages');
}

export function conversations(list: Conversation[], viewerId: number): string {
  if (!list.length) return empty('conversations');
  return table(
    ['', 'USER', 'UNREAD', 'WHEN', 'LAST MESSAGE'],
    list.map((c) => {
      const mine = c.last_message.sender === viewerId;
      return [dot(c.user.is_online), c.user.username, c.unread_count ? style.yellow(String(c.unread_count)) : '0', ago(c.last_message.created_at), (mine ? 'you: ' : '') + oneLine(c.last_message.content)];
    }),
  );
}

/**
 * The time a call was connected: from its answer to its end. The API's `duration` counts from
 * the first ring, so a missed or cancelled call would show its ring time as if talked through.
 */
export function talkTime(c: Pick<Call, 'answered_at' | 'ended_at'>): string {
  if (!c.answered_at) return '—';
  if (!c.ended_at) return '';
  return duration(Math.max(0, Math.floor((Date.parse(c.ended_at) - Date.parse(c.answered_at)) / 1000)));
}

export function calls(list: Call[], viewerId: number): string {
  if (!list.length) return empty('calls');
  return table(
    ['ID', 'TYPE', 'WITH', 'STATUS', 'TALK TIME', 'WHEN'],
    list.map((c) => {
      const outgoing = c.caller.id === viewerId;
      const other = outgoing ? c.callee : c.caller;
      return [String(c.id), c.call_type, `${outgoing ? '→' : '←'} ${other.username}`, c.status, talkTime(c), ago(c.started_at)];
    }),
  );
}
