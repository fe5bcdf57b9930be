/**
 * Row triggers written once for both dialects: PostgreSQL wants a plpgsql function per trigger,
 * SQLite takes the statements inline. Used by the migrations that keep read models in the database.
 */
import type { QueryInterface } from 'sequelize';

export interface RowTrigger {
  /** Unique; the trigger (and PostgreSQL's function) is `jvai_<name>`. */
  name: string;
  table: string;
  event: 'INSERT' | 'DELETE' | 'UPDATE' | `UPDATE OF ${string}`;
  /** A condition on NEW/OLD, without parentheses. */
  when?: string;
  /** Statements run for each row, with NEW/OLD as in both dialects. */
  body: string[];
}

export async function createTrigger(qi: QueryInterface, t: RowTrigger): Promise<void> {
  const statements = t.body.map((s) => `${s};`).join(' ');
  if (qi.sequelize.getDialect() === 'postgres') {
    await qi.sequelize.query(`CREATE FUNCTION jvai_${t.name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${statements} RETURN NULL; END $$`);
    await qi.sequelize.query(`CREATE TRIGGER jvai_${t.name} AFTER ${t.event} ON ${t.table} FOR EACH ROW${t.when ? ` WHEN (${t.when})` : ''} EXECUTE FUNCTION jvai_${t.name}()`);
  } else {
    await qi.sequelize.query(`CREATE TRIGGER jvai_${t.name} AFTER ${t.event} ON ${t.table} FOR EACH ROW${t.when ? ` WHEN ${t.when}` : ''} BEGIN ${statements} END`);
  }
}

export async function dropTrigger(qi: QueryInterface, t: RowTrigger): Promise<void> {
  if (qi.sequelize.getDialect() === 'postgres') {
    await qi.sequelize.query(`DROP TRIGGER IF EXISTS jvai_${t.name} ON ${t.table}`);
    await qi.sequelize.query(`DROP FUNCTION IF EXISTS jvai_${t.name}()`);
  } else {
    await qi.sequelize.query(`DROP TRIGGER IF EXISTS jvai_${t.name}`);
  }
}
