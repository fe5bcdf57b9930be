/** Writes that reference rows a check has just found. */
import { isForeignKeyViolation } from '../db/constraints.js';

/**
 * Runs `check` (which throws the error a missing row deserves: a 404, or a 400 on the field that
 * named it) and then `write` with what it found. Another request may delete a checked row in
 * between — every foreign key cascades on delete, so nothing holds it — and the write then fails
 * on its foreign key: that is the check's case after all, so the check runs again and its error
 * is the answer. A foreign-key failure the check does not explain is a bug and stays one (a 500).
 */
export async function checkedWrite<C, T>(check: () => Promise<C>, write: (checked: C) => Promise<T>): Promise<T> {
  const checked = await check();
  try {
    return await write(checked);
  } catch (err) {
    if (isForeignKeyViolation(err)) await check();
    throw err;
  }
}
