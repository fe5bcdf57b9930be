/** A token bucket: `capacity` actions in a burst, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt = Date.now();

  constructor(private readonly capacity: number, private readonly perSecond: number) {
    this.tokens = capacity;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True once the client has been quiet long enough to earn a whole burst back. */
  full(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }
}

/**
 * Per-connection flood control: a token bucket, and patience that runs out. Over the rate an
 * action is refused; refused `maxStrikes` times in a row without calming down, the client is
 * to be disconnected.
 */
export class Throttle {
  private readonly bucket: TokenBucket;
  private strikes = 0;

  constructor(burst: number, perSecond: number, private readonly maxStrikes: number) {
    this.bucket = new TokenBucket(burst, perSecond);
  }

  check(): 'ok' | 'refuse' | 'close' {
    if (this.bucket.full()) this.strikes = 0;
    if (this.bucket.take()) return 'ok';
    return this.strike();
  }

  /** Counts an action refused for rate elsewhere (the user's shared budget). */
  strike(): 'refuse' | 'close' {
    return ++this.strikes >= this.maxStrikes ? 'close' : 'refuse';
  }
}
