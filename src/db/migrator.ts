import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Umzug, SequelizeStorage } from 'umzug';
import type { QueryInterface, Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { connectDatabase, sqlOf } from './connection.js';
import { PostgresSql } from './postgres.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Compiled: dist/src/db → dist/migrations/*.js. From source (tsx): src/db → migrations/*.ts.
const ext = path.extname(fileURLToPath(import.meta.url));
const migrationsGlob = path.join(here, '..', '..', 'migrations', `*${ext}`).replaceAll(path.sep, '/');

export function createMigrator(sequelize: Sequelize): Umzug<QueryInterface> {
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
    storage: new SequelizeStorage({ sequelize, tableName: 'schema_migrations' }),
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
  const up = async () => (await createMigrator(sequelize).up()).map((m) => m.name);
  const sql = sqlOf(sequelize);
  return sql instanceof PostgresSql ? sql.holdingLock(MIGRATION_LOCK, up) : up();
}

/** Opens the database and applies migrations: shared by `serve` and `admin`. */
export async function openDatabase(config: Config, logger: Logger): Promise<Sequelize> {
  const sequelize = await connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  const applied = await migrate(sequelize);
  if (applied.length) logger.info({ applied }, 'migrations applied');
  return sequelize;
}
