/** `jvai admin recount`: rebuilds what the triggers keep from the source tables, and says how much that was. */
import type { Sequelize } from 'sequelize';
import { sqlOf } from '../db/connection.js';
import { num } from '../db/sql.js';
import { rebuildReadModels } from '../db/readModels.js';

export interface RecountResult {
  users: number;
  posts: number;
  comments: number;
  groups: number;
  timelineRows: number;
  conversations: number;
  ms: number;
}

export async function recount(sequelize: Sequelize): Promise<RecountResult> {
  const started = performance.now();
  await rebuildReadModels(sequelize);
  const ms = Math.round(performance.now() - started);
  const sizes = await sqlOf(sequelize).read.get<Record<keyof Omit<RecountResult, 'ms'>, unknown>>(
    `SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM posts) AS posts, (SELECT COUNT(*) FROM comments) AS comments,
       (SELECT COUNT(*) FROM social_groups) AS groups, (SELECT COUNT(*) FROM home_timeline) AS "timelineRows",
       (SELECT COUNT(*) FROM dm_conversations) AS conversations`,
  );
  return {
    users: num(sizes?.users),
    posts: num(sizes?.posts),
    comments: num(sizes?.comments),
    groups: num(sizes?.groups),
    timelineRows: num(sizes?.timelineRows),
    conversations: num(sizes?.conversations),
    ms,
  };
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function describeRecount(r: RecountResult): string {
  return (
    `Recounted followers and following of ${plural(r.users, 'user')}, likes and comments of ${plural(r.posts, 'post')}, ` +
    `likes of ${plural(r.comments, 'comment')}, members of ${plural(r.groups, 'group')}; rebuilt ${plural(r.timelineRows, 'home timeline row')} ` +
    `and ${plural(r.conversations, 'conversation summary', 'conversation summaries')}; refreshed planner statistics (${r.ms} ms).`
  );
}
