/** SQL shared by the hot reads of posts, comments, users and groups (see rows.ts for the shapes). */
import { pgIntArray, type Sql, type SqlValue } from '../db/sql.js';
import type { UserRow } from '../db/rows.js';

/** A nested author's columns, from `users` joined as `a`. */
export const AUTHOR_COLUMNS = 'a.username AS "authorUsername", a.first_name AS "authorFirstName", a.last_name AS "authorLastName", a.profile_picture AS "authorProfilePicture"';

/** A user's columns as the users endpoints show them, from `users` as `u` (counters are stored columns). */
export const USER_COLUMNS = {
  id: 'u.id',
  username: 'u.username',
  email: 'u.email',
  firstName: 'u.first_name',
  lastName: 'u.last_name',
  bio: 'u.bio',
  profilePicture: 'u.profile_picture',
  isOnline: 'u.is_online',
  lastSeen: 'u.last_seen',
  followersCount: 'u.followers_count',
  followingCount: 'u.following_count',
} satisfies Record<Exclude<keyof UserRow, 'isFollowing'>, string>;

/**
 * A list of ids bound as ONE parameter (` IN …` / ` = ANY …` after a column), so a statement's
 * text — and its prepared statement — stays the same whatever the page's size.
 */
export function idsParam(sql: Sql, ids: readonly number[]): { match: string; param: string } {
  return sql.dialect === 'postgres'
    ? { match: ' = ANY(?::int[])', param: pgIntArray(ids) }
    : { match: ' IN (SELECT value FROM json_each(?))', param: JSON.stringify(ids.map(Number)) };
}

/**
 * Which of `ids` the viewer has a row for — liked (post_likes, comment_likes) or follows: one
 * indexed query per page, kept apart from the shared columns so those can be cached per item.
 */
export async function viewerMarks(sql: Sql, mark: { table: string; viewer: string; target: string }, viewerId: number | null, ids: readonly number[]): Promise<Set<number>> {
  if (!viewerId || !ids.length) return new Set();
  const list = idsParam(sql, ids);
  const rows = await sql.read.all<{ id: number }>(`SELECT ${mark.target} AS id FROM ${mark.table} WHERE ${mark.viewer} = ? AND ${mark.target}${list.match}`, [viewerId, list.param]);
  return new Set(rows.map((r) => Number(r.id)));
}

export const POST_LIKES = { table: 'post_likes', viewer: 'user_id', target: 'post_id' };
export const COMMENT_LIKES = { table: 'comment_likes', viewer: 'user_id', target: 'comment_id' };
export const FOLLOWING = { table: 'follows', viewer: 'follower_id', target: 'following_id' };

/** Columns as `alias → SQL expression`: the select list and, for packedRows, the names in order. */
export type Columns = Readonly<Record<string, string>>;

/** `expr AS "alias", …` — camelCase aliases, so both dialects return the rows' shapes. */
export const selectList = (columns: Columns): string =>
  Object.entries(columns)
    .map(([alias, expr]) => `${expr} AS "${alias}"`)
    .join(', ');

/**
 * The rows of `SELECT <columns> <rest>`, newest first by `id` (a column every packed read has).
 * On SQLite as ONE value: the database builds a JSON array of row arrays, which crosses from the
 * reader thread as a single string instead of an object per row (node-sqlite3, when this was
 * measured, built those on the main thread: most of what a page of a hundred small values
 * cost). PostgreSQL's
 * driver parses rows cheaply: packing them only to parse them again measured slower there, so
 * its rows come as they are (in the statement's order).
 */
export async function packedRows<T extends { id: number }>(sql: Sql, columns: Columns, rest: string, params: readonly SqlValue[]): Promise<T[]> {
  if (sql.dialect === 'postgres') return sql.read.all<T>(`SELECT ${selectList(columns)} ${rest}`, params);
  return (await packedPage<T>(sql, columns, rest, params)).rows();
}

/**
 * As packedRows, packed on both databases, with the text of the rows: equal texts, equal rows.
 * The text is parsed only when the rows are asked for: a page whose JSON is kept by its text
 * (src/http/presentedPages.ts) never is. The rows are put in order here: an ordered aggregate made
 * SQLite sort them again through a temporary B-tree, 15–25% of the whole query.
 */
export async function packedPage<T extends { id: number }>(
  sql: Sql,
  columns: Columns,
  rest: string,
  params: readonly SqlValue[],
): Promise<{ rows: () => T[]; text: string; empty: boolean }> {
  const { statement, names } = packedStatement(sql.dialect, columns, rest);
  const text = (await sql.read.text(statement, params)) ?? '[]';
  return { rows: () => unpack<T>(names, text), text, empty: text === '[]' };
}

/** Statements built, per columns object: by dialect and the rest of the statement. */
const statements = new WeakMap<Columns, Map<string, { statement: string; names: string[] }>>();
/** Rests kept per columns object at most (a rest is the same text each time a route asks). */
const MAX_RESTS = 64;

/** The packing statement, built once rather than joined again from its parts for every page. */
function packedStatement(dialect: Sql['dialect'], columns: Columns, rest: string): { statement: string; names: string[] } {
  let built = statements.get(columns);
  if (!built) statements.set(columns, (built = new Map()));
  const key = `${dialect}\n${rest}`;
  let found = built.get(key);
  if (!found) {
    const names = Object.keys(columns);
    const values = names.map((c) => `s."${c}"`).join(', ');
    const pack = dialect === 'postgres' ? `coalesce(json_agg(json_build_array(${values}))::text, '[]')` : `json_group_array(json_array(${values}))`;
    if (built.size >= MAX_RESTS) built.clear();
    found = { statement: `SELECT ${pack} AS "rows" FROM (SELECT ${selectList(columns)} ${rest}) s`, names };
    built.set(key, found);
  }
  return found;
}

function unpack<T extends { id: number }>(names: readonly string[], text: string): T[] {
  const rows: unknown[][] = JSON.parse(text);
  // A plain loop: each row's properties added in one order (one hidden class), no pairs built per row.
  const objects = rows.map((row) => {
    const object: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) object[names[i]!] = row[i];
    return object as T;
  });
  // Usually in order already, which the sort only has to confirm.
  return objects.sort((a, b) => b.id - a.id);
}
