/**
 * The benches' database: demo data seeded in this process through the same code as
 * `jvai admin seed` (the issue's workload: 10,000 users, 100,000 posts, with likes, comments,
 * follows and DMs in proportion). `inspect` runs while the database is still open.
 */
import type { Sequelize } from 'sequelize';
import type { SeedResult } from '../src/admin/seed.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function seedBenchDatabase<T>(
  dataDir: string,
  databaseUrl: string | undefined,
  sizes: { users: number; posts: number },
  inspect: (sequelize: Sequelize, seeded: SeedResult) => Promise<T>,
): Promise<T> {
  const { loadConfig } = await import('../src/config.js');
  const { openDatabase } = await import('../src/db/migrator.js');
  const { closeDatabase } = await import('../src/db/connection.js');
  const { adminLogger } = await import('../src/admin/context.js');
  const { seedDemoData } = await import('../src/admin/seed.js');
  const config = loadConfig({ env: {}, file: false, flags: { dataDir, databaseUrl, logLevel: 'silent' } });
  const { users, posts } = sizes;
  const wanted = { users, posts, likes: posts * 3, comments: posts, follows: users * 10, messages: users * 2 };
  console.log(`Seeding: ${Object.entries(wanted).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  const started = performance.now();
  const sequelize = await openDatabase(config, adminLogger('silent'));
  try {
    const seeded = await seedDemoData(sequelize, wanted, {
      onProgress: (stage, done, total) => done === total && console.log(`  ${stage.padEnd(8)} ${String(total).padStart(7)}  (${seconds(performance.now() - started)})`),
    });
    return await inspect(sequelize, seeded);
  } finally {
    await closeDatabase(sequelize);
  }
}
