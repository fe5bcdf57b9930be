import { ForeignKeyConstraintError } from 'sequelize';

/**
 * Whether a write failed because a row it references does not exist: Sequelize's
 * ForeignKeyConstraintError from a model write, or the driver's own error from the raw SQL layer
 * (SQLite's SQLITE_CONSTRAINT_FOREIGNKEY, PostgreSQL's SQLSTATE 23503).
 */
export function isForeignKeyViolation(err: unknown): boolean {
  if (err instanceof ForeignKeyConstraintError) return true;
  if (!(err instanceof Error)) return false;
  const { code } = err as Error & { code?: unknown };
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}
