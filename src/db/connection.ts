import fs from 'node:fs';
import path from 'node:path';
import { Sequelize } from 'sequelize';
import type { Logger } from 'pino';
import { initModels } from '../models/index.js';

export interface DatabaseOptions {
  databaseUrl?: string;
  dataDir: string;
  logger?: Logger;
}

/** Opens SQLite in the data dir (default) or PostgreSQL (DATABASE_URL), and binds the models. */
export async function connectDatabase({ databaseUrl, dataDir, logger }: DatabaseOptions): Promise<Sequelize> {
  const logging = logger ? (sql: string) => logger.trace({ sql }, 'sql') : false;
  let sequelize: Sequelize;
  if (databaseUrl && !databaseUrl.startsWith('sqlite:')) {
    sequelize = new Sequelize(databaseUrl, { dialect: 'postgres', logging, pool: { max: 10 } });
  } else {
    const storage = databaseUrl ? databaseUrl.replace(/^sqlite:(\/\/)?/, '') : path.join(dataDir, 'jvai.sqlite3');
    if (storage !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(storage)), { recursive: true });
    sequelize = new Sequelize({ dialect: 'sqlite', storage, logging, pool: { max: 1 } });
  }
  await sequelize.authenticate();
  if (sequelize.getDialect() === 'sqlite') {
    // WAL lets readers run beside the writer; busy_timeout waits instead of failing on a lock.
    await sequelize.query('PRAGMA journal_mode = WAL');
    await sequelize.query('PRAGMA busy_timeout = 5000');
    await sequelize.query('PRAGMA synchronous = NORMAL');
    await sequelize.query('PRAGMA foreign_keys = ON');
  }
  initModels(sequelize);
  return sequelize;
}
