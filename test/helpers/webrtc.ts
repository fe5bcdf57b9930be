/**
 * A test process that loads node-webrtc must end with exit(), as `jvai call` does: its native
 * objects crash Node's natural teardown now and then (cli/call/webrtc.ts), which tap reports as
 * a failed file although every test passed.
 */
export function exitWhenDone(): void {
  process.once('beforeExit', () => process.exit());
}
