/**
 * How two processes settle one user's presence flag when their reads and writes interleave
 * (src/realtime/holdTracker.ts): a shared registry and a shared flag, with one process's read
 * held back so that the other acts between that read and the write it leads to.
 */
import t from 'tap';
import { pino } from 'pino';
import type { User } from '../src/models/index.js';
import { PresenceTracker, type HoldRegistry } from '../src/realtime/presence.js';

const alice = { id: 1 } as User;

/** One database flag and every announcement made of it, as flipPresence makes them. */
function sharedFlag() {
  const state = { online: false, announced: [] as boolean[] };
  const users = {
    async flipPresence(_userId: number, online: boolean) {
      if (state.online === online) return false;
      state.online = online;
      state.announced.push(online);
      return true;
    },
    async onlineIds() {
      return state.online ? [alice.id] : [];
    },
  };
  return { state, users };
}

/** A registry shared by processes; `pause()` holds back this process's next read until released, after taking it. */
function sharedRegistry() {
  const holders = new Map<number, Set<string>>();
  return (process: string) => {
    let gate: { taken: () => void; release: Promise<void> } | undefined;
    const registry: HoldRegistry = {
      async set(key, held) {
        const set = holders.get(key) ?? new Set();
        if (held) set.add(process);
        else set.delete(process);
        holders.set(key, set);
      },
      async held(keys) {
        const answer = keys.map((key) => (holders.get(key)?.size ?? 0) > 0);
        const paused = gate;
        gate = undefined;
        if (paused) {
          paused.taken();
          await paused.release;
        }
        return answer;
      },
    };
    const pause = () => {
      let taken!: () => void;
      let release!: () => void;
      const read = new Promise<void>((resolve) => (taken = resolve));
      gate = { taken, release: new Promise<void>((resolve) => (release = resolve)) };
      return { read, release };
    };
    return { registry, pause };
  };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

/** Processes A and B, each with its tracker and its handle on the shared registry, and the shared flag. */
function twoProcesses() {
  const { state, users } = sharedFlag();
  const registry = sharedRegistry();
  const [a, b] = [registry('A'), registry('B')];
  const tracker = (r: typeof a) => new PresenceTracker(users, pino({ level: 'silent' }), r.registry);
  return { state, users, a, b, A: tracker(a), B: tracker(b) };
}

t.test('a process that let go never sets the flag after the last holder cleared it', async (t) => {
  const { state, a, A, B } = twoProcesses();
  A.connected(alice);
  B.connected(alice);
  await settled();
  t.same(state.announced, [true], 'online once');

  // A lets go and reads "B still holds her"; before A acts on that read, B lets go and clears the flag.
  const gate = a.pause();
  A.disconnected(alice);
  await gate.read;
  B.disconnected(alice);
  await settled();
  gate.release();
  await settled();
  t.equal(state.online, false, 'offline');
  t.same(state.announced, [true, false], 'announced offline once: no online-offline blip');
});

t.test('a process undoes its own clearing when a holder arrived meanwhile', async (t) => {
  const { state, a, A, B } = twoProcesses();
  A.connected(alice);
  await settled();

  // A lets go and reads "nobody holds her"; B connects (the flag is still set, so B changes
  // nothing); then A clears the flag on its stale read, reads again, and must set it back.
  const gate = a.pause();
  A.disconnected(alice);
  await gate.read;
  B.connected(alice);
  await settled();
  gate.release();
  await settled();
  t.equal(state.online, true, 'online: B holds her');
  t.same(state.announced, [true, false, true]);
});

t.test('connected() settles once the hold is recorded: letting go elsewhere afterwards never blips offline', async (t) => {
  const { state, A, b, users } = twoProcesses();
  A.connected(alice);
  await settled();
  // B's registry is slow to record. The transport answers a client's handshake only once
  // connected() settled (src/realtime/ws.ts), so the client closes its socket on A only after that.
  const slowRegistry: HoldRegistry = {
    set: async (key, held) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await b.registry.set(key, held);
    },
    held: (keys) => b.registry.held(keys),
  };
  const slowB = new PresenceTracker(users, pino({ level: 'silent' }), slowRegistry);
  await slowB.connected(alice);
  A.disconnected(alice);
  await settled();
  t.equal(state.online, true, 'online: B holds her');
  t.same(state.announced, [true], 'never announced offline');
});
