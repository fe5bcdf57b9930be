/**
 * Uploaded images: checked by content (not by name), bounded in bytes and pixels,
 * re-encoded so EXIF/GPS metadata never leaves the server, stored under dataDir/media.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import crypto from 'node:crypto';
import type Sharp from 'sharp';
import { PayloadTooLarge, UnsupportedMediaType } from '../errors.js';

export type MediaKind = 'avatars' | 'posts' | 'groups';

const FORMATS = { jpeg: 'jpg', png: 'png', gif: 'gif', webp: 'webp' } as const;
type Format = keyof typeof FORMATS;

export const CONTENT_TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' };

/** What a multipart parser hands us for one file. */
export interface Upload {
  filepath: string;
  size: number;
}

/** The image library (libvips), loaded with the first upload instead of on every start (0.1 s). */
let imaging: Promise<typeof Sharp> | undefined;
const loadSharp = (): Promise<typeof Sharp> => (imaging ??= import('sharp').then((m) => m.default));

const NOT_AN_IMAGE = 'Upload a valid image. The file you uploaded was either not an image or a corrupted image.';

export class MediaStore {
  readonly root: string;

  constructor(dataDir: string, private readonly maxBytes: number, private readonly maxPixels: number) {
    this.root = path.join(dataDir, 'media');
  }

  /** Validates and stores an image; returns its path relative to the media root. */
  async saveImage(kind: MediaKind, upload: Upload): Promise<string> {
    if (upload.size > this.maxBytes) throw new PayloadTooLarge(`File too large: the limit is ${this.maxBytes} bytes.`);
    const [sharp, input] = await Promise.all([loadSharp(), fs.readFile(upload.filepath)]);
    let format: Format;
    let pixels: number;
    try {
      const meta = await sharp(input, { animated: true, limitInputPixels: false }).metadata();
      if (!meta.format || !(meta.format in FORMATS)) throw new UnsupportedMediaType(`Unsupported image type. Allowed: JPEG, PNG, GIF, WebP.`);
      format = meta.format as Format;
      pixels = (meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0) * (meta.pages ?? 1);
    } catch (err) {
      if (err instanceof UnsupportedMediaType) throw err;
      throw new UnsupportedMediaType(NOT_AN_IMAGE);
    }
    if (pixels > this.maxPixels) throw new PayloadTooLarge(`Image too large: the limit is ${this.maxPixels} pixels.`);
    let output: Buffer;
    try {
      // Re-encoding drops all metadata (EXIF, GPS, XMP); rotate() first bakes in the EXIF orientation.
      output = await sharp(input, { animated: format === 'gif' || format === 'webp', limitInputPixels: this.maxPixels })
        .rotate()
        .toFormat(format)
        .toBuffer();
    } catch {
      throw new UnsupportedMediaType(NOT_AN_IMAGE);
    }
    const relative = `${kind}/${crypto.randomBytes(16).toString('hex')}.${FORMATS[format]}`;
    await fs.mkdir(path.join(this.root, kind), { recursive: true });
    await fs.writeFile(path.join(this.root, relative), output);
    return relative;
  }

  /** Removes stored files; missing ones are fine (already gone). */
  async remove(...relatives: (string | null | undefined)[]): Promise<void> {
    const files = relatives.map((r) => (r ? this.resolve(r) : null)).filter((f): f is string => f !== null);
    await Promise.all(files.map((file) => fs.rm(file, { force: true })));
  }

  /** Absolute path of a stored file, or null for anything that is not one of ours. */
  resolve(relative: string): string | null {
    if (!/^(avatars|posts|groups)\/[0-9a-f]{32}\.(jpg|png|gif|webp)$/.test(relative)) return null;
    return path.join(this.root, relative);
  }

  url(relative: string | null, baseUrl: string): string | null {
    return relative ? `${baseUrl}/media/${relative}` : null;
  }
}
