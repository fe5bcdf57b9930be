/**
 * Drops the value samples an earlier ANALYZE left on SQLite (sqlite_stat4): while they exist,
 * every statement comparing an indexed column with a bound value is compiled again on each run
 * (src/db/readModels.ts, analyze()). The per-index averages (sqlite_stat1) stay. PostgreSQL has
 * nothing to do.
 */
import type { QueryInterface } from 'sequelize';
import type { MigrationParams } from 'umzug';
import { DROP_SAMPLES } from '../src/db/readModels.js';

type Params = MigrationParams<QueryInterface>;

export async function up({ context: qi }: Params): Promise<void> {
  if (qi.sequelize.getDialect() === 'sqlite') await qi.sequelize.query(DROP_SAMPLES);
}

/** Samples come back as ANALYZE made them before (it was run after bulk loads and recounts). */
export async function down({ context: qi }: Params): Promise<void> {
  if (qi.sequelize.getDialect() === 'sqlite') await qi.sequelize.query('ANALYZE');
}
