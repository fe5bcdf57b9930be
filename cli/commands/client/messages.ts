/** `jvai dm|messages|read`: direct messages. */
import type { Command } from 'commander';
import { authed, command, joinWords, positiveInt, withLimit } from './action.js';

export function register(program: Command): void {
  command(program, 'dm', 'send a direct message')
    .argument('<user>', 'a username or a numeric id (@name for a numeric username)')
    .argument('<text...>', 'the message')
    .action(
      authed(async (ctx, who: string, words: string[]) => {
        const message = await ctx.api.sendMessage(ctx.userRef(who), joinWords(words));
        ctx.print(message, () => `Sent #${message.id} to ${message.receiver_username}.`);
      }),
    );

  withLimit(command(program, 'messages', 'your conversations, or the conversation with one user (oldest first)'))
    .argument('[user]', 'a username or a numeric id (@name for a numeric username)')
    .action(
      authed(async (ctx, who?: string) => {
        const { limit } = ctx.opts<{ limit?: number }>();
        if (!who) {
          const list = await ctx.api.conversations(limit);
          ctx.print(list, () => ctx.fmt.conversations(list, ctx.me));
          return;
        }
        const list = await ctx.api.conversationWith(ctx.userRef(who), limit);
        ctx.print(list, () => ctx.fmt.conversation(list, ctx.me));
      }),
    );

  command(program, 'read', 'mark a message you received as read')
    .argument('<message-id>', 'the message id', positiveInt)
    .action(
      authed(async (ctx, id: number) => {
        const message = await ctx.api.markRead(id);
        ctx.print(message, () => `Marked #${message.id} from ${message.sender_username} as read.`);
      }),
    );
}
