/** What posts and comments share: like counts, the viewer's like flag, and the like toggle. */
import { literal, UniqueConstraintError, type ModelStatic, type Model, type WhereOptions } from 'sequelize';

/**
 * A correlated subquery, as an `attributes.include` entry, for one row of `alias`
 * (the model's SQL alias, e.g. "Post"): one query serves a whole page.
 */
export function countOf(table: string, foreignKey: string, alias: string, as: string): [ReturnType<typeof literal>, string] {
  return [literal(`(SELECT COUNT(*) FROM ${table} x WHERE x.${foreignKey} = "${alias}"."id")`), as];
}

/** likesCount and userLiked for rows of `alias`, liked through `table`.`foreignKey`. */
export function likeStats(table: string, foreignKey: string, alias: string, viewerId: number | null): [ReturnType<typeof literal>, string][] {
  const liked = viewerId
    ? `EXISTS (SELECT 1 FROM ${table} l WHERE l.${foreignKey} = "${alias}"."id" AND l.user_id = ${Number(viewerId)})`
    : 'false';
  return [countOf(table, foreignKey, alias, 'likesCount'), [literal(liked), 'userLiked']];
}

/**
 * Likes or unlikes; returns whether the user now likes it. Two simultaneous first likes
 * race to the unique index: the loser's insert fails and it simply reports "liked".
 */
export async function toggleLike<M extends Model>(model: ModelStatic<M>, where: WhereOptions): Promise<boolean> {
  const removed = await model.destroy({ where });
  if (removed > 0) return false;
  try {
    await model.create(where as M['_creationAttributes']);
  } catch (err) {
    if (!(err instanceof UniqueConstraintError)) throw err;
  }
  return true;
}

