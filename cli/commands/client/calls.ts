/** `jvai calls`: your call records (placing and answering calls is the TUI's job). */
import { Option, type Command } from 'commander';
import { authed, command, withLimit } from './action.js';
import type { CallList } from '../../client/api.js';

const LISTS = { history: 'finished calls only', missed: 'calls you missed', active: 'calls ringing or under way' } as const;

export function register(program: Command): void {
  const cmd = withLimit(command(program, 'calls', 'list your calls, newest first'));
  const names = Object.keys(LISTS) as (keyof typeof LISTS)[];
  for (const name of names) cmd.addOption(new Option(`--${name}`, LISTS[name]).conflicts(names.filter((n) => n !== name)));
  cmd.action(
    authed(async (ctx) => {
      const opts = ctx.opts<Partial<Record<keyof typeof LISTS, boolean>> & { limit?: number }>();
      const which: CallList = names.find((n) => opts[n]) ?? 'all';
      const list = await ctx.api.calls(which, opts.limit);
      ctx.print(list, () => ctx.fmt.calls(list, ctx.me));
    }),
  );
}
