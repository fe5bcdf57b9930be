import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { QueryTypes, type QueryInterface, type Sequelize } from 'sequelize';
import type { Umzug } from 'umzug';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { connectDatabase, sqlOf } from './connection.js';
import type { PostgresSql } from './postgres.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ext = path.extname(fileURLToPath(import.meta.url));
// From source (src/db → migrations/*.ts) and compiled by tsc (dist/src/db → dist/migrations/*.js)
// two levels up; bundled (a chunk in dist/bundle, scripts/bundle.mjs), beside it, so that the
// migrations share the bundle's modules.
const migrationsDir = path.basename(here) === 'db' ? path.join(here, '..', '..', 'migrations') : path.join(here, 'migrations');
const migrationsGlob = path.join(migrationsDir, `*${ext}`).replaceAll(path.sep, '/');
const TABLE = 'schema_migrations';

async function createMigrator(sequelize: Sequelize): Promise<Umzug<QueryInterface>> {
  const { Umzug, SequelizeStorage } = await import('umzug');
  return new Umzug({
    migrations: {
      glob: migrationsGlob,
      resolve: ({ name, path: file, context }) => ({
        name: name.replace(/\.(ts|js)$/, ''),
        up: async () => (await import(pathToFileURL(file!).href)).up({ context }),
        down: async () => (await import(pathToFileURL(file!).href)).down({ context }),
      }),
    },
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize, tableName: TABLE }),
    logger: undefined,
  });
}

/** Any fixed number: the PostgreSQL advisory lock that lets one process at a time migrate. */
const MIGRATION_LOCK = 0x6a766169;

/**
 * Applies pending migrations; returns their names. Several processes starting at once on a new
 * PostgreSQL database take turns (the first migrates, the others find nothing left to do).
 */
export async function migrate(sequelize: Sequelize): Promise<string[]> {
  if (!(await anyPending(sequelize))) return [];
  const up = async () => (await (await createMigrator(sequelize)).up()).map((m) => m.name);
  const sql = sqlOf(sequelize);
  return sql.dialect === 'postgres' ? (sql as PostgresSql).holdingLock(MIGRATION_LOCK, up) : up();
}

/**
 * Whether a migration file has not been applied: umzug (and its command-line dependencies, 0.15 s
 * of every start) is loaded only then. It decides again itself, under the lock.
 */
async function anyPending(sequelize: Sequelize): Promise<boolean> {
  if (!(await sequelize.getQueryInterface().tableExists(TABLE))) return true;
  const rows = await sequelize.query<{ name: string }>(`SELECT name FROM ${TABLE}`, { type: QueryTypes.SELECT });
  const applied = new Set(rows.map((r) => r.name));
  const files = await fs.promises.readdir(migrationsDir);
  return files.some((file) => file.endsWith(ext) && !file.endsWith(`.d${ext}`) && !applied.has(file.slice(0, -ext.length)));
}

/** Opens the database and applies migrations: shared by `serve` and `admin`. */
export async function openDatabase(config: Config, logger: Logger): Promise<Sequelize> {
  const sequelize = await connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  const applied = await migrate(sequelize);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  return sequelize;
}
