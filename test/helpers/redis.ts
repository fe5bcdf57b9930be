import { Redis } from 'ioredis';

export const REDIS_URL = process.env.JVAI_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers; in CI its absence is a failure, elsewhere a loud skip. */
export async function redisAvailable(): Promise<boolean> {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    if (process.env.CI === 'true' || process.env.JVAI_REQUIRE_PG === '1') throw new Error(`Redis at ${REDIS_URL} is required in CI but not reachable`);
    return false;
  } finally {
    client.disconnect();
  }
}
