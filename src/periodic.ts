/** Housekeeping that runs now and then every `ms` (one run at a time), until stopped. */
export interface Periodic {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function every(ms: number, task: () => Promise<unknown>, onError: (err: unknown) => void): Periodic {
  let running: Promise<void> | undefined;
  const run = () => {
    running ??= task()
      .then(() => undefined, onError)
      .finally(() => (running = undefined));
  };
  run();
  // Housekeeping never keeps the process alive.
  const timer = setInterval(run, ms).unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
