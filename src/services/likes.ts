/** The like toggle posts and comments share (likes_count columns follow it through triggers). */
import { UniqueConstraintError, type ModelStatic, type Model, type WhereOptions } from 'sequelize';

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

