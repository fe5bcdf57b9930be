import os from 'node:os';
import type { Command } from 'commander';
import type { Config } from '../../src/config.js';
import { say } from '../conventions.js';

/** Where people can reach the server: every interface's address when it binds all of them. */
export function listenUrls(host: string, port: number): string[] {
  const url = (address: string) => `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  const any = host === '0.0.0.0' || host === '::';
  if (!any) return [url(host)];
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && (host === '::' || a.family === 'IPv4'))
    .map((a) => a!.address);
  return [url('localhost'), ...addresses.map(url)];
}

/** A database URL fit to print: the password hidden. */
export function redactedUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return databaseUrl.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

/** The lines `jvai serve` starts with (on stderr: stdout carries the JSON log lines). */
function banner(config: Config, port: number): string {
  const data = config.databaseUrl ? `database ${redactedUrl(config.databaseUrl)}; media and JWT secret in ${config.dataDir}` : `data in ${config.dataDir}`;
  return `jvai listening on ${listenUrls(config.host, port).join(' ')}\n${data}\n`;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the server (REST under /api, WebSockets under /ws, media under /media)')
    .option('--host <host>', 'interface to bind (default 0.0.0.0)')
    .option('--port <port>', 'port (default 8000, or $PORT)')
    .option('--data-dir <dir>', 'data directory: SQLite file, media, generated secret (default ./data)')
    .option('--config <file>', 'JSON config file (default config/<NODE_ENV>.json when present)')
    .action(async (opts: { host?: string; port?: string; dataDir?: string; config?: string }) => {
      // Loaded here, not at the top: `jvai --help` needs neither the config nor its schema library.
      const { ConfigError, loadConfig } = await import('../../src/config.js');
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
      process.stderr.write(banner(config, Number(new URL(server.url).port)));
      server.logger.info({ url: server.url, database: server.sequelize.getDialect(), dataDir: config.dataDir }, 'jvai listening');
      const stop = (signal: string) => {
        server.logger.info({ signal }, 'shutting down');
        // Whatever hangs (a database that stopped answering, a stuck socket), the process ends.
        const deadline = config.shutdownTimeoutSeconds;
        setTimeout(() => {
          server.logger.fatal({ signal, deadlineSeconds: deadline }, 'shutdown did not finish in time; exiting');
          process.exit(1);
        }, deadline * 1000).unref();
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
