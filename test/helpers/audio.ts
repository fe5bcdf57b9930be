/**
 * Audio for call tests, written independently of cli/call/wav.ts so the client's WAV code is
 * checked against it: a tone as 16-bit PCM WAV, a reader for 16-bit PCM WAV, and Goertzel's
 * algorithm to measure how strong one frequency is.
 */
import fs from 'node:fs';

/** A sine tone as a 16-bit PCM WAV, the same signal on every channel. */
export function toneWav(file: string, { hz, seconds, rate = 48_000, channels = 1, amplitude = 0.5 }: { hz: number; seconds: number; rate?: number; channels?: number; amplitude?: number }): void {
  const frames = Math.round(seconds * rate);
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * hz * i) / rate));
    for (let c = 0; c < channels; c++) data.writeInt16LE(v, (i * channels + c) * 2);
  }
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * channels * 2, 28);
  h.writeUInt16LE(channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(data.length, 40);
  fs.writeFileSync(file, Buffer.concat([h, data]));
}

/** A 16-bit PCM mono WAV (what the client writes): its rate and samples scaled to [-1, 1). */
export function readWav(file: string): { rate: number; samples: Float64Array } {
  const b = fs.readFileSync(file);
  if (b.toString('ascii', 0, 4) !== 'RIFF' || b.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file} is not a WAV file`);
  let rate = 0;
  for (let off = 12; off + 8 <= b.length; ) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      if (b.readUInt16LE(off + 8) !== 1 || b.readUInt16LE(off + 10) !== 1 || b.readUInt16LE(off + 22) !== 16) throw new Error('expected 16-bit PCM mono');
      rate = b.readUInt32LE(off + 12);
    } else if (id === 'data') {
      const n = Math.floor(Math.min(size, b.length - off - 8) / 2);
      const samples = new Float64Array(n);
      for (let i = 0; i < n; i++) samples[i] = b.readInt16LE(off + 8 + i * 2) / 32768;
      return { rate, samples };
    }
    off += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no data chunk`);
}

export const rms = (x: Float64Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length));

/** Power of `hz` in `x` (Goertzel), normalized by length so windows of any size compare. */
export function goertzel(x: Float64Array, rate: number, hz: number): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s0 = v + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (x.length * x.length);
}

/** The strongest of `candidates` in `x`, with every candidate's power. */
export function dominantFrequency(x: Float64Array, rate: number, candidates: number[]): { hz: number; powers: Record<number, number> } {
  const powers: Record<number, number> = {};
  for (const hz of candidates) powers[hz] = goertzel(x, rate, hz);
  const hz = candidates.reduce((best, f) => (powers[f] > powers[best] ? f : best), candidates[0]);
  return { hz, powers };
}

/** The part of a recording with sound in it (leading/trailing silence cut), so the tone dominates. */
export function voiced(x: Float64Array, threshold = 0.02): Float64Array {
  let start = 0;
  let end = x.length;
  while (start < end && Math.abs(x[start]) < threshold) start++;
  while (end > start && Math.abs(x[end - 1]) < threshold) end--;
  return x.subarray(start, end);
}
