/** `jvai chat`: the live terminal client (ink). Only commander here: ink, React and socket.io load when it runs. */
import type { Command } from 'commander';
import { authed, commandGroup } from './action.js';
import type { AudioOptions } from '../../call/audio.js';

export function register(program: Command): void {
  commandGroup(program, 'chat', 'the live terminal client: conversations, groups, feed and calls')
    .option('--input <wav>', 'in calls, send this WAV file instead of the microphone')
    .option('--output <wav>', 'in calls, write what you hear to this WAV file instead of the speakers')
    .action(
      authed(async (ctx) => {
        const { runChat } = await import('../../tui/main.js');
        await runChat(ctx, ctx.opts<AudioOptions>());
      }),
    );
}
