/** `jvai chat`: runs the ink screen until the user quits. Loaded only when the command runs. */
import { render } from 'ink';
import type { SessionContext } from '../commands/client/context.js';
import type { AudioOptions } from '../call/audio.js';
import { webRtcLoaded } from '../call/webrtc.js';
import { App } from './App.js';
import { ChatModel } from './model.js';

export async function runChat(ctx: SessionContext, audio: AudioOptions): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) throw new Error('jvai chat needs a terminal; the other commands (with --json) are for scripts');
  const model = new ChatModel({ api: ctx.api, username: ctx.session.username, audio });
  // Ctrl-C is a key like the others: quitting must hang up a call first.
  const app = render(<App model={model} />, { exitOnCtrlC: false });
  await app.waitUntilExit();
  await model.stop();
  // A process that loaded node-webrtc must exit explicitly (see webRtcLoaded).
  if (webRtcLoaded()) setImmediate(() => process.exit());
}
