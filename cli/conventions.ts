/**
 * The conventions every `jvai` command follows, applied once to the whole command tree, so no
 * command can differ: every message starts with `jvai: `, and a wrong invocation prints ONE
 * line saying what is wrong and which `--help` to read, then exits with 2.
 */
import type { Command, CommanderError } from 'commander';

/** The exit code of a wrong invocation (unknown command or option, missing argument, bad value). */
export const USAGE_EXIT = 2;

/** The one prefix of everything jvai says on stderr. */
export const say = (message: string): void => void process.stderr.write(`jvai: ${message}\n`);

/** `jvai admin users create`: the words a user types to reach `cmd`. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Prints a usage error of `cmd` (one line, pointing at its --help) and exits with USAGE_EXIT. */
export function usageError(cmd: Command, problem: string): never {
  say(`${problem} (see \`${commandPath(cmd)} --help\`)`);
  process.exit(USAGE_EXIT);
}

function onExit(cmd: Command, err: CommanderError): never {
  // --help and --version end here too, after printing to stdout.
  if (err.exitCode === 0) process.exit(0);
  // commander shows the whole help, as an error, for a command group called without its
  // subcommand, and for `help <unknown>`.
  if (err.code === 'commander.help') {
    if (cmd.args.length) usageError(cmd, `unknown command '${cmd.args[cmd.args.length - 1]}'`);
    usageError(cmd, cmd.parent ? `\`${commandPath(cmd)}\` needs a subcommand` : 'no command given');
  }
  usageError(cmd, err.message.replace(/^error: /, '').replace(/\n\(Did you mean (.+)\?\)$/, ' — did you mean $1?'));
}

/** Applies the conventions to `cmd` and every subcommand (call it once every command is registered). */
export function applyConventions(cmd: Command): void {
  cmd
    .showHelpAfterError(false)
    // commander's own error output (its message, or the whole help) is replaced by onExit's one line.
    .configureOutput({ writeErr: () => {}, outputError: () => {} })
    .exitOverride((err) => onExit(cmd, err));
  for (const sub of cmd.commands) applyConventions(sub);
}
