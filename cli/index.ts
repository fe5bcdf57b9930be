/** The `jvai` command line: server, admin and (client) commands, each lazy-loaded. */
import { Command } from 'commander';
import { VERSION } from '../src/version.js';
import { applyConventions } from './conventions.js';
import { registerServe } from './commands/serve.js';
import { registerAdmin } from './commands/admin.js';
import { registerClient } from './commands/client/index.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('jvai')
    .description('jvai: a self-hosted social network — server, admin tool and terminal client')
    .version(VERSION, '-V, --version', 'print the version');
  registerServe(program);
  registerAdmin(program);
  registerClient(program);
  applyConventions(program);
  await program.parseAsync(argv);
}
