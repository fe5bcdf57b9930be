/** The like toggle posts and comments share (likes_count columns follow it through triggers). */
import { UniqueConstraintError, type ModelStatic, type Model, type WhereOptions } from 'sequelize';
import { NotFound } from '../errors.js';
import { checkedWrite } from './references.js';

/**
 * Likes or unlikes the `target` row `id` (404 when there is none); returns whether the user now
 * likes it. Two simultaneous first likes race to the unique index: the loser's insert fails and
 * it simply reports "liked".
 */
export async function toggleLike<M extends Model>(target: ModelStatic<Model>, id: number, likes: ModelStatic<M>, where: WhereOptions): Promise<boolean> {
  const exists = async () => {
    if (!(await target.count({ where: { id } }))) throw new NotFound();
  };
  return checkedWrite(exists, async () => {
    const removed = await likes.destroy({ where });
    if (removed > 0) return false;
    try {
      await likes.create(where as M['_creationAttributes']);
    } catch (err) {
      if (!(err instanceof UniqueConstraintError)) throw err;
    }
    return true;
  });
}
