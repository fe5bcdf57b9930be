import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../src/config.js';
import { say } from '../conventions.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the server (REST under /api, WebSockets under /ws, media under /media)')
    .option('--host <host>', 'interface to bind (default 0.0.0.0)')
    .option('--port <port>', 'port (default 8000, or $PORT)')
    .option('--data-dir <dir>', 'data directory: SQLite file, media, generated secret (default ./data)')
    .option('--config <file>', 'JSON config file (default config/<NODE_ENV>.json when present)')
    .action(async (opts: { host?: string; port?: string; dataDir?: string; config?: string }) => {
      let config;
      try {
        config = loadConfig({ flags: { host: opts.host, port: opts.port, dataDir: opts.dataDir }, file: opts.config });
      } catch (err) {
        if (err instanceof ConfigError) {
          say(err.message);
          process.exit(2);
        }
        throw err;
      }
      const { startServer } = await import('../../src/server.js');
      const server = await startServer(config);
      server.logger.info({ url: server.url, database: server.sequelize.getDialect(), dataDir: config.dataDir }, 'jvai listening');
      const stop = (signal: string) => {
        server.logger.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          (err) => {
            server.logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
