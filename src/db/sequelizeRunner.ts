import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import type { SqlRunner, SqlValue } from './sql.js';

const numbered = (sql: string): string => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** What code that writes both inside Sequelize transactions and raw write jobs needs. */
export interface Statements {
  all: SqlRunner['all'];
  /** Whether an INSERT … RETURNING gives its rows back (Sequelize's SQLite dialect runs INSERTs without rows). */
  insertReturns: boolean;
  /** A statement whose result is not needed. */
  exec(sql: string, params?: readonly SqlValue[]): Promise<void>;
}

/** Raw SQL (bound parameters) inside a Sequelize transaction. */
export function sequelizeStatements(sequelize: Sequelize, transaction: Transaction): Statements {
  const query = (sql: string, params: readonly SqlValue[], type: QueryTypes) => sequelize.query(numbered(sql), { bind: params as SqlValue[], type, transaction, raw: true });
  return {
    insertReturns: sequelize.getDialect() === 'postgres',
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await query(sql, params, QueryTypes.SELECT)) as T[];
    },
    async exec(sql: string, params: readonly SqlValue[] = []) {
      await query(sql, params, QueryTypes.RAW);
    },
  };
}

/** The same for a raw write job. */
export function txStatements(tx: SqlRunner): Statements {
  return { insertReturns: true, all: (sql, params) => tx.all(sql, params), exec: async (sql, params) => void (await tx.run(sql, params)) };
}
