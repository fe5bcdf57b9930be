/**
 * Runs async tasks one after another per key, so that work for one user (presence writes,
 * presence fan-out) lands in the order it was asked for even though each step awaits I/O.
 */
export class KeyedSerial<K> {
  private readonly tails = new Map<K, Promise<void>>();

  constructor(private readonly onError: (err: unknown) => void) {}

  run(key: K, task: () => Promise<void>): void {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(task).catch(this.onError);
    this.tails.set(key, next);
    void next.then(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
  }

  /** Resolves once every queued task (including ones queued meanwhile) has finished. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all(this.tails.values());
  }
}
