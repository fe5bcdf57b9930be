/** `jvai call <user>`: an audio call from the terminal (WebRTC, like a browser's). */
import type { Command } from 'commander';
import { authed, commandGroup } from './action.js';
import { callAudioOptions } from '../../call/options.js';
import type { CallCommandOptions } from '../../call/run.js';

export function register(program: Command): void {
  callAudioOptions(commandGroup(program, 'call', 'call a user (audio); Ctrl-C hangs up'))
    .argument('<user>', 'a username or a numeric id (@name for a numeric username)')
    .action(
      authed(async (ctx, target: string) => {
        const { runCall } = await import('../../call/run.js');
        // Nothing is said before the call is placed: the session says "ringing <user>…" once it is.
        await runCall(ctx, ctx.opts<CallCommandOptions>(), async (session, say) => {
          const { callee } = await session.place(ctx.userRef(target));
          if (await session.calleeOffline()) say(`${callee.username} is offline: it rings on in case they come online (Ctrl-C gives up)`);
          return true;
        });
      }),
    );
}
