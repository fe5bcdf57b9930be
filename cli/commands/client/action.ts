/**
 * Wiring shared by the client commands. Only commander is loaded at startup, so
 * `jvai --help` stays instant; the API client, session store, prompts and formatters load
 * (./context.js) when an action runs. Errors end as one line on stderr and exit code 1;
 * usage errors exit with 2 (../../conventions.ts).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { say, usageError } from '../../conventions.js';
import type { ClientContext, SessionContext } from './context.js';

/** A mistake in how the command was called: reported like commander's own errors. */
export class UsageError extends Error {}

/** A command without `--json`: one that only holds subcommands (`jvai group …`), or an interactive one. */
export function commandGroup(parent: Command, name: string, description: string): Command {
  return parent.command(name).description(description);
}

/** A client command: takes `--json`. */
export function command(parent: Command, name: string, description: string): Command {
  return commandGroup(parent, name, description).option('--json', 'print only the API JSON (for scripts)');
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('Expected a positive whole number.');
  return Number(value);
}

/** `--limit N` for list commands. */
export const withLimit = (cmd: Command): Command => cmd.option('--limit <n>', 'how many to show (default 50, at most 200)', positiveInt);

/** Several words of a message, as the shell split them. */
export const joinWords = (words: string[]): string => words.join(' ').trim();

function fail(cmd: Command, err: unknown): void {
  if (err instanceof UsageError) usageError(cmd, err.message);
  say(err instanceof Error ? err.message : String(err));
  if (process.env.JVAI_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
}

function run<C, A extends unknown[]>(load: (cmd: Command) => Promise<C>, handler: (ctx: C, ...args: A) => Promise<void>) {
  // commander passes the positional arguments, then the options object, then the command.
  return async (...raw: unknown[]): Promise<void> => {
    const cmd = raw[raw.length - 1] as Command;
    try {
      await handler(await load(cmd), ...(raw.slice(0, -2) as A));
    } catch (err) {
      fail(cmd, err);
    }
  };
}

/** An action that needs no session (register, login). */
export function action<A extends unknown[]>(handler: (ctx: ClientContext, ...args: A) => Promise<void>) {
  return run(async (cmd) => (await import('./context.js')).clientContext(cmd.opts()), handler);
}

/** An action of the logged-in user; fails with "not logged in" without a session. */
export function authed<A extends unknown[]>(handler: (ctx: SessionContext, ...args: A) => Promise<void>) {
  return run(async (cmd) => (await import('./context.js')).sessionContext(cmd.opts()), handler);
}
