/** `jvai answer`: waits for a call and picks it up (or declines it): the headless side of a call. */
import type { Command } from 'commander';
import { authed, commandGroup } from './action.js';
import { callAudioOptions, seconds } from '../../call/options.js';
import type { CallCommandOptions } from '../../call/run.js';

export function register(program: Command): void {
  callAudioOptions(commandGroup(program, 'answer', 'wait for an incoming call and answer it; Ctrl-C hangs up'))
    .option('--timeout <seconds>', 'give up when no call rings within this long (default: wait until Ctrl-C)', seconds)
    .option('--reject', 'decline the call instead of answering it')
    .action(
      authed(async (ctx) => {
        const opts = ctx.opts<CallCommandOptions & { timeout?: number; reject?: boolean }>();
        const { runCall, describeUser } = await import('../../call/run.js');
        await runCall(ctx, { ...opts, audio: !opts.reject }, async (session, say) => {
          say(opts.timeout ? `waiting up to ${opts.timeout} s for a call…` : 'waiting for a call… (Ctrl-C stops)');
          const incoming = await session.nextIncoming(opts.timeout === undefined ? undefined : opts.timeout * 1000);
          if (!incoming) {
            // Ended while waiting: a signal, or the signaling socket dropped.
            say(session.state === 'ended' ? 'stopped waiting: no call answered' : `no incoming call within ${opts.timeout} s`);
            return false;
          }
          say(`incoming ${incoming.callType} call from ${describeUser(incoming.caller)}`);
          if (opts.reject) await session.reject(incoming);
          else await session.accept(incoming);
          return true;
        });
      }),
    );
}
