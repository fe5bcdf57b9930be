/** The options `jvai call` and `jvai answer` share (commander only: loaded at startup, so kept light). */
import { InvalidArgumentError, type Command } from 'commander';

export function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('Expected a number of seconds greater than 0.');
  return n;
}

export const callAudioOptions = (cmd: Command): Command =>
  cmd
    .option('--input <wav>', 'send this WAV file instead of the microphone (any rate/channels; converted to 48 kHz mono)')
    .option('--output <wav>', 'write what you hear to this WAV file instead of the speakers')
    .option('--duration <seconds>', 'hang up this long after the call connects', seconds);
