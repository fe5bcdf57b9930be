import type { Command } from 'commander';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';

export function registerAdmin(program: Command): void {
  const admin = program.command('admin').description('administer the server: migrations, users, demo data, backups');
  admin
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const config = loadConfig();
      const { openDatabase } = await import('../../src/server.js');
      const sequelize = await openDatabase(config, createLogger({ logLevel: 'warn' }));
      console.log('Database is up to date.');
      await sequelize.close();
    });
}
