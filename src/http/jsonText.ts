import crypto from 'node:crypto';

/**
 * A response body that is JSON already, as bytes: cached renderings are joined with Buffer.concat
 * (one copy, no re-encoding) instead of concatenating strings that the socket write would have
 * to flatten and encode again on every request. With the version of what it was made from, its
 * ETag comes from that short text instead of a hash of every byte (conditionalGet).
 */
/** A weak ETag from `data`: the body itself, or a short text naming it (`kind` keeps the two apart). */
export const weakEtag = (kind: string, data: string | Buffer): string => `W/"${kind}-${crypto.hash('sha1', data, 'base64url').slice(0, 27)}"`;

export class JsonText {
  private constructor(
    readonly body: Buffer,
    readonly etag?: string,
  ) {}

  /** A value as JSON, its ETag a hash of the bytes (as conditionalGet would give it). */
  static json(value: unknown): JsonText {
    const body = Buffer.from(JSON.stringify(value));
    return new JsonText(body, weakEtag(body.length.toString(16), body));
  }

  /** One JSON value given as consecutive chunks; `version` names exactly these bytes. */
  static of(chunks: readonly Buffer[], version?: string): JsonText {
    return new JsonText(Buffer.concat(chunks), version === undefined ? undefined : weakEtag('v', version));
  }

  /** A JSON array whose items are each given as consecutive chunks; `version` names exactly these bytes. */
  static array(items: readonly (readonly Buffer[])[], version?: string): JsonText {
    const chunks: Buffer[] = [OPEN];
    items.forEach((item, i) => {
      if (i) chunks.push(COMMA);
      chunks.push(...item);
    });
    chunks.push(CLOSE);
    return JsonText.of(chunks, version);
  }
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');
