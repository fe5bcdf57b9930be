/**
 * PCM helpers for calls: WebRTC audio in node-webrtc is 16-bit signed PCM in 10 ms frames,
 * and calls use 48 kHz mono throughout. Here: reading any common WAV into that format,
 * converting received frames to it, and writing it to a WAV file as it arrives.
 */
import fs from 'node:fs';

export const SAMPLE_RATE = 48_000;
/** Samples in one 10 ms frame at SAMPLE_RATE. */
export const FRAME_SAMPLES = SAMPLE_RATE / 100;

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
const HEADER_BYTES = 44;

export class WavError extends Error {}

interface WavFormat {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
}

/** One sample as a float in [-1, 1), for each supported encoding. */
function sampleReader(f: WavFormat): (buf: Buffer, offset: number) => number {
  if (f.format === FORMAT_FLOAT && f.bitsPerSample === 32) return (b, o) => b.readFloatLE(o);
  if (f.format === FORMAT_FLOAT && f.bitsPerSample === 64) return (b, o) => b.readDoubleLE(o);
  if (f.format === FORMAT_PCM) {
    switch (f.bitsPerSample) {
      case 8:
        return (b, o) => (b.readUInt8(o) - 128) / 128; // 8-bit WAV is unsigned
      case 16:
        return (b, o) => b.readInt16LE(o) / 32768;
      case 24:
        return (b, o) => b.readIntLE(o, 3) / 8388608;
      case 32:
        return (b, o) => b.readInt32LE(o) / 2147483648;
    }
  }
  throw new WavError(`unsupported WAV encoding (format ${f.format}, ${f.bitsPerSample} bits): use 8/16/24/32-bit PCM or 32/64-bit float`);
}

/** Parses a WAV file's bytes into 48 kHz mono 16-bit samples (channels averaged, rate converted). */
export function decodeWav(bytes: Buffer): Int16Array {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new WavError('not a WAV file (no RIFF/WAVE header)');
  let format: WavFormat | undefined;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new WavError('damaged WAV file (short fmt chunk)');
      let code = bytes.readUInt16LE(body);
      // WAVE_FORMAT_EXTENSIBLE keeps the real format code at the start of its sub-format GUID.
      if (code === FORMAT_EXTENSIBLE && size >= 40) code = bytes.readUInt16LE(body + 24);
      format = {
        format: code,
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        blockAlign: bytes.readUInt16LE(body + 12),
        bitsPerSample: bytes.readUInt16LE(body + 14),
      };
      if (!format.channels || !format.sampleRate || format.blockAlign < (format.channels * format.bitsPerSample) / 8) throw new WavError('damaged WAV file (bad fmt chunk)');
    } else if (id === 'data') {
      if (!format) throw new WavError('damaged WAV file (data before fmt)');
      // Streaming writers leave the size at 0 or 0xFFFFFFFF: then the data runs to the end of the file.
      const end = size === 0 || size === 0xffffffff || body + size > bytes.length ? bytes.length : body + size;
      return toMono48k(readFrames(bytes.subarray(body, end), format), format.sampleRate);
    }
    offset = body + size + (size % 2); // chunks are padded to an even length
  }
  throw new WavError('damaged WAV file (no data chunk)');
}

/** Interleaved samples → one float per frame, channels averaged. */
function readFrames(data: Buffer, f: WavFormat): Float32Array {
  const read = sampleReader(f);
  const bytesPerSample = f.bitsPerSample / 8;
  const frames = Math.floor(data.length / f.blockAlign);
  const out = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < f.channels; c++) sum += read(data, i * f.blockAlign + c * bytesPerSample);
    out[i] = sum / f.channels;
  }
  return out;
}

const toInt16 = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v * 32768)));

/**
 * Mono floats at `rate` → 48 kHz 16-bit. Linear interpolation: plenty for speech, and a
 * WAV at 48 kHz (the usual case) is copied sample for sample.
 */
export function toMono48k(mono: Float32Array, rate: number): Int16Array {
  if (rate === SAMPLE_RATE) return Int16Array.from(mono, toInt16);
  const length = Math.floor((mono.length * SAMPLE_RATE) / rate);
  const out = new Int16Array(length);
  const step = rate / SAMPLE_RATE;
  for (let i = 0; i < length; i++) {
    const pos = i * step;
    const k = Math.floor(pos);
    const a = mono[k] ?? 0;
    const b = mono[k + 1] ?? a;
    out[i] = toInt16(a + (b - a) * (pos - k));
  }
  return out;
}

/** A received frame (any rate, any channel count, interleaved) → 48 kHz mono. */
export function frameToMono48k(samples: Int16Array, rate: number, channels: number): Int16Array {
  if (channels === 1 && rate === SAMPLE_RATE) return samples;
  const frames = Math.floor(samples.length / channels);
  const mono = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[i * channels + c];
    mono[i] = sum / channels / 32768;
  }
  return toMono48k(mono, rate);
}

function header(dataBytes: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(FORMAT_PCM, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(SAMPLE_RATE, 24);
  h.writeUInt32LE(SAMPLE_RATE * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes, 40);
  return h;
}

/** How often the header's sizes are brought up to date while writing. */
const HEADER_SYNC_MS = 1000;

/**
 * A 48 kHz mono 16-bit WAV written as audio arrives. The header's sizes are rewritten every
 * second and on close, so even a process killed mid-call leaves a playable file.
 */
export class WavWriter {
  private fd: number | null;
  private dataBytes = 0;
  private lastSync = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'w');
    fs.writeSync(this.fd, header(0));
  }

  write(samples: Int16Array): void {
    if (this.fd === null) return;
    fs.writeSync(this.fd, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
    this.dataBytes += samples.byteLength;
    const now = Date.now();
    if (now - this.lastSync >= HEADER_SYNC_MS) {
      this.lastSync = now;
      this.syncHeader();
    }
  }

  private syncHeader(): void {
    if (this.fd !== null) fs.writeSync(this.fd, header(this.dataBytes), 0, HEADER_BYTES, 0);
  }

  close(): void {
    if (this.fd === null) return;
    this.syncHeader();
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
