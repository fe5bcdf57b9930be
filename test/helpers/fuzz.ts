/** What the fuzz tests share (test/fuzz.test.ts, test/realtime-fuzz.test.ts). */

/** Cases per property: JVAI_FUZZ_RUNS draws more. */
export const FUZZ_RUNS = Number(process.env.JVAI_FUZZ_RUNS ?? 8);
/** JVAI_FUZZ_SEED replays a failure's seed; unset, each run draws new cases. */
export const FUZZ_SEED = process.env.JVAI_FUZZ_SEED ? Number(process.env.JVAI_FUZZ_SEED) : undefined;
/** Everything that must not show in an answer: stack frames, source paths, driver names. */
export const LEAK = /\n\s+at |\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\.js:\d+|SQLITE_|sequelize|TypeError|ReferenceError/i;
