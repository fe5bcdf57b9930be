/** `jvai groups|group …|group-send|group-messages`: groups and their chat. */
import type { Command } from 'commander';
import { authed, command, commandGroup, joinWords, positiveInt, withLimit } from './action.js';

const GROUP_ID = 'the group id';

export function register(program: Command): void {
  withLimit(command(program, 'groups', 'list groups, newest first').option('--mine', 'only groups you belong to')).action(
    authed(async (ctx) => {
      const { mine, limit } = ctx.opts<{ mine?: boolean; limit?: number }>();
      const list = await (mine ? ctx.api.myGroups(limit) : ctx.api.groups(limit));
      ctx.print(list, () => ctx.fmt.groups(list));
    }),
  );

  const group = commandGroup(program, 'group', 'create, join, leave a group, or list its members');

  command(group, 'create', 'create a group; you become its admin')
    .argument('<name...>', 'the group name')
    .option('--description <text>', 'what the group is about')
    .option('--image <file>', 'a picture for the group')
    .action(
      authed(async (ctx, words: string[]) => {
        const { description, image } = ctx.opts<{ description?: string; image?: string }>();
        const created = await ctx.api.createGroup({ name: joinWords(words), description, image: image ? await ctx.upload(image) : undefined });
        ctx.print(created, () => `Created:\n${ctx.fmt.group(created)}`);
      }),
    );

  for (const verb of ['join', 'leave'] as const) {
    command(group, verb, verb === 'join' ? 'join a group' : 'leave a group')
      .argument('<group-id>', GROUP_ID, positiveInt)
      .action(
        authed(async (ctx, id: number) => {
          const res = await (verb === 'join' ? ctx.api.joinGroup(id) : ctx.api.leaveGroup(id));
          ctx.print(res, () => `${res.message}.`);
        }),
      );
  }

  withLimit(command(group, 'members', "list a group's members (admins flagged)").argument('<group-id>', GROUP_ID, positiveInt)).action(
    authed(async (ctx, id: number) => {
      const list = await ctx.api.groupMembers(id, ctx.opts<{ limit?: number }>().limit);
      ctx.print(list, () => ctx.fmt.members(list));
    }),
  );

  command(program, 'group-send', 'send a message to a group you belong to')
    .argument('<group-id>', GROUP_ID, positiveInt)
    .argument('<text...>', 'the message')
    .action(
      authed(async (ctx, id: number, words: string[]) => {
        const message = await ctx.api.sendGroupMessage(id, joinWords(words));
        ctx.print(message, () => `Sent #${message.id} to group ${id}.`);
      }),
    );

  withLimit(command(program, 'group-messages', "show a group's latest messages, oldest first (members only)").argument('<group-id>', GROUP_ID, positiveInt)).action(
    authed(async (ctx, id: number) => {
      const list = await ctx.api.groupMessages(id, ctx.opts<{ limit?: number }>().limit);
      ctx.print(list, () => ctx.fmt.groupMessages(list));
    }),
  );
}
