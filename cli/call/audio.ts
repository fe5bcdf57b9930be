/**
 * Where a call's audio comes from and goes to: a WAV file, the system's sound tools (ALSA's
 * arecord/aplay or SoX's rec/play, spawned as children streaming raw PCM), or nothing
 * (silence out, received audio discarded). All speak 48 kHz mono 16-bit PCM (./wav.ts).
 * Sources are pulled one 10 ms frame at a time by the call's pacer; sinks are pushed frames.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { FRAME_SAMPLES, SAMPLE_RATE, WavWriter, decodeWav } from './wav.js';

export interface AudioSource {
  /** What is being sent, for the user (`440.wav`, `microphone (arecord)`, `silence`). */
  readonly label: string;
  /** The next 10 ms frame (FRAME_SAMPLES samples); silence when nothing is available. */
  read(): Int16Array;
  close(): void;
}

export interface AudioSink {
  readonly label: string;
  write(samples: Int16Array): void;
  close(): void;
}

/** Reports a problem met after start (a sound tool that died); the call goes on without it. */
export type AudioProblem = (message: string) => void;

const silence = (): Int16Array => new Int16Array(FRAME_SAMPLES);

export class SilenceSource implements AudioSource {
  readonly label = 'silence';
  read(): Int16Array {
    return silence();
  }
  close(): void {}
}

export class DiscardSink implements AudioSink {
  readonly label = 'nowhere (discarded)';
  write(): void {}
  close(): void {}
}

/** Plays a WAV file once, then silence. */
export class WavSource implements AudioSource {
  readonly label: string;
  private readonly samples: Int16Array;
  private position = 0;

  constructor(file: string) {
    this.label = path.basename(file);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    try {
      this.samples = decodeWav(bytes);
    } catch (err) {
      throw new Error(`${file}: ${(err as Error).message}`);
    }
  }

  read(): Int16Array {
    const frame = silence();
    frame.set(this.samples.subarray(this.position, this.position + FRAME_SAMPLES));
    this.position = Math.min(this.position + FRAME_SAMPLES, this.samples.length);
    return frame;
  }

  close(): void {}
}

export class WavSink implements AudioSink {
  readonly label: string;
  private readonly writer: WavWriter;

  constructor(file: string) {
    this.label = path.basename(file);
    try {
      this.writer = new WavWriter(file);
    } catch (err) {
      throw new Error(`cannot write ${file}: ${(err as Error).message}`);
    }
  }

  write(samples: Int16Array): void {
    this.writer.write(samples);
  }

  close(): void {
    this.writer.close();
  }
}

/** A sound tool found on PATH, with the arguments for raw 48 kHz mono s16le on stdin/stdout. */
interface Tool {
  name: string;
  command: string;
  args: string[];
}

const RAW_ALSA = ['-q', '-t', 'raw', '-f', 'S16_LE', '-r', String(SAMPLE_RATE), '-c', '1'];
const RAW_SOX = ['-q', '-t', 'raw', '-b', '16', '-e', 'signed-integer', '-L', '-r', String(SAMPLE_RATE), '-c', '1', '-'];

const RECORDERS: Tool[] = [
  { name: 'arecord', command: 'arecord', args: RAW_ALSA },
  { name: 'sox', command: 'rec', args: RAW_SOX },
];
const PLAYERS: Tool[] = [
  { name: 'aplay', command: 'aplay', args: RAW_ALSA },
  { name: 'sox', command: 'play', args: RAW_SOX },
];

function onPath(command: string, env: NodeJS.ProcessEnv = process.env): boolean {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

const findTool = (tools: Tool[]): Tool | undefined => tools.find((t) => onPath(t.command));

/** Tells when a sound tool stops on its own (no device, no permission): the call carries on. */
function watch(child: ChildProcess, tool: Tool, what: string, problem: AudioProblem, closing: () => boolean): void {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-300)));
  child.once('error', (err) => problem(`${tool.command} failed (${err.message}): ${what}`));
  child.once('exit', (code, signal) => {
    if (closing()) return;
    const why = stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit code ${code}`);
    problem(`${tool.command} stopped (${why}): ${what}`);
  });
}

/** 200 ms: a microphone running ahead of the call's clock is trimmed to this, to bound the delay. */
const MAX_BACKLOG_SAMPLES = 20 * FRAME_SAMPLES;

/** The microphone, through arecord or rec. */
class RecorderSource implements AudioSource {
  readonly label: string;
  private readonly child: ChildProcess;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closing = false;

  constructor(tool: Tool, problem: AudioProblem) {
    this.label = `microphone (${tool.command})`;
    this.child = spawn(tool.command, tool.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    watch(this.child, tool, 'sending silence', problem, () => this.closing);
    this.child.stdout?.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      // Whole samples only (an even count of bytes), or every later sample would be misread.
      const excess = (this.buffered - MAX_BACKLOG_SAMPLES * 2) & ~1;
      if (excess > 0) this.take(excess);
    });
  }

  /** Removes and returns the first `bytes` buffered bytes. */
  private take(bytes: number): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all.subarray(bytes)];
    this.buffered = all.length - bytes;
    return all.subarray(0, bytes);
  }

  read(): Int16Array {
    const bytes = FRAME_SAMPLES * 2;
    if (this.buffered < bytes) return silence();
    const data = this.take(bytes);
    const frame = silence();
    for (let i = 0; i < FRAME_SAMPLES; i++) frame[i] = data.readInt16LE(i * 2);
    return frame;
  }

  close(): void {
    this.closing = true;
    this.child.kill();
  }
}

/** The speakers, through aplay or play. */
class PlayerSink implements AudioSink {
  readonly label: string;
  private readonly child: ChildProcess;
  private closing = false;

  constructor(tool: Tool, problem: AudioProblem) {
    this.label = `speakers (${tool.command})`;
    this.child = spawn(tool.command, tool.args, { stdio: ['pipe', 'ignore', 'pipe'] });
    watch(this.child, tool, 'discarding received audio', problem, () => this.closing);
    this.child.stdin?.on('error', () => {}); // reported by the exit handler
  }

  write(samples: Int16Array): void {
    const stdin = this.child.stdin;
    // A player that cannot keep up loses audio rather than letting it pile up in memory.
    if (!stdin?.writable || stdin.writableLength > MAX_BACKLOG_SAMPLES * 2) return;
    const bytes = Buffer.alloc(samples.length * 2);
    for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i], i * 2);
    stdin.write(bytes);
  }

  close(): void {
    this.closing = true;
    this.child.stdin?.end();
    // Let the player drain what it has, but not hold the process forever.
    setTimeout(() => this.child.kill(), 500).unref();
  }
}

export interface AudioOptions {
  /** A WAV file to send instead of the microphone. */
  input?: string;
  /** A WAV file to write what is received to, instead of the speakers. */
  output?: string;
  /** Called when a sound tool fails mid-call. */
  problem?: AudioProblem;
}

export interface CallAudio {
  source: AudioSource;
  sink: AudioSink;
  /** Set when no sound tool was found for a side that was not given a file. */
  notice?: string;
}

/** Opens the call's audio: files when given, else the system's sound tools, else silence / discard. */
export function openAudio(options: AudioOptions): CallAudio {
  const problem = options.problem ?? (() => {});
  const missing: string[] = [];
  let source: AudioSource;
  if (options.input) source = new WavSource(options.input);
  else {
    const tool = findTool(RECORDERS);
    if (tool) source = new RecorderSource(tool, problem);
    else {
      source = new SilenceSource();
      missing.push('no microphone tool (arecord or sox) found: sending silence');
    }
  }
  let sink: AudioSink;
  try {
    if (options.output) sink = new WavSink(options.output);
    else {
      const tool = findTool(PLAYERS);
      if (tool) sink = new PlayerSink(tool, problem);
      else {
        sink = new DiscardSink();
        missing.push('no playback tool (aplay or sox) found: discarding received audio');
      }
    }
  } catch (err) {
    source.close();
    throw err;
  }
  return { source, sink, notice: missing.length ? missing.join('; ') : undefined };
}
