/**
 * A response body that is JSON already, as bytes: cached renderings are joined with Buffer.concat
 * (one copy, no re-encoding) instead of concatenating strings that the socket write would have
 * to flatten and encode again on every request.
 */
export class JsonText {
  private constructor(readonly body: Buffer) {}

  /** One JSON value given as consecutive chunks. */
  static of(chunks: readonly Buffer[]): JsonText {
    return new JsonText(Buffer.concat(chunks));
  }

  /** A JSON array whose items are each given as consecutive chunks. */
  static array(items: readonly (readonly Buffer[])[]): JsonText {
    const chunks: Buffer[] = [OPEN];
    items.forEach((item, i) => {
      if (i) chunks.push(COMMA);
      chunks.push(...item);
    });
    chunks.push(CLOSE);
    return JsonText.of(chunks);
  }
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');
