/** Runs async functions one at a time, in the order they were asked for. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  /** Waits for the turn; the function it resolves to gives the turn back. */
  acquire(): Promise<() => void> {
    let release!: () => void;
    const done = new Promise<void>((resolve) => (release = resolve));
    const turn = this.tail.then(() => release);
    this.tail = this.tail.then(() => done);
    return turn;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
