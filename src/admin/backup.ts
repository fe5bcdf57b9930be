/**
 * Backups an operator can restore: the database (a consistent SQLite snapshot, taken while the
 * server runs), the uploaded media and the generated JWT secret (without it every session
 * would end), in a directory or a tar file — and their restore into a data dir.
 * A PostgreSQL database is not copied here: pg_dump does that, and both commands say so.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar';
import type { Config } from '../config.js';
import { closeDatabase, connectDatabase, sqliteFile } from '../db/connection.js';
import { VERSION } from '../version.js';

/** Describes a backup; its presence is what makes a directory or archive one. */
export const MANIFEST = 'jvai-backup.json';
const DATABASE = 'jvai.sqlite3';
const SECRET = 'jwt-secret';
const MEDIA = 'media';

export interface Manifest {
  format: 1;
  /** The jvai version that wrote it (the server migrates an older database on start). */
  jvai: string;
  createdAt: string;
  /** 'sqlite' when the database is in the backup; null when it lives in PostgreSQL. */
  database: 'sqlite' | null;
  /** Whether the generated JWT secret is in the backup (not when JWT_SECRET configures it). */
  secret: boolean;
  mediaFiles: number;
}

/** A refusal or failure meant for the operator, printed as is. */
export class BackupError extends Error {}

/** `x.tar`, `x.tar.gz` or `x.tgz`: an archive; any other path is a directory. */
export const isArchive = (target: string): boolean => /\.(tar|tar\.gz|tgz)$/i.test(target);

const gzipped = (file: string): boolean => /\.(tar\.gz|tgz)$/i.test(file);

const PG_DUMP = 'pg_dump "$DATABASE_URL" > jvai.sql';
const PG_RESTORE = 'psql "$DATABASE_URL" < jvai.sql';

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

async function isEmptyDir(dir: string): Promise<boolean> {
  return (await fs.readdir(dir)).length === 0;
}

async function countFiles(dir: string): Promise<number> {
  if (!(await exists(dir))) return 0;
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).length;
}

/** The secret in use, when it is the one generated into the data dir (else it is the operator's to keep). */
async function generatedSecret(config: Config): Promise<string | null> {
  const file = path.join(config.dataDir, SECRET);
  const stored = await fs.readFile(file, 'utf8').catch(() => null);
  return stored !== null && stored.trim() === config.jwtSecret ? file : null;
}

export interface BackupResult {
  target: string;
  manifest: Manifest;
  /** What the operator must still do (PostgreSQL, a configured secret). */
  notes: string[];
}

/** Writes a backup of the data dir (and its SQLite database) to `target`: a directory, or a tar file. */
export async function backup(config: Config, target: string): Promise<BackupResult> {
  target = path.resolve(target);
  const archive = isArchive(target);
  if (await exists(target)) {
    if (archive || !(await fs.stat(target)).isDirectory() || !(await isEmptyDir(target))) throw new BackupError(`${target} already exists; refusing to overwrite it`);
  }
  const database = sqliteFile(config.databaseUrl, config.dataDir);
  if (database !== null && !(await exists(database))) throw new BackupError(`no database at ${database}: nothing to back up (wrong --data-dir?)`);

  // Everything is written beside the target first and moved into place at the end: no half backup under its name.
  await fs.mkdir(path.dirname(target), { recursive: true });
  const staging = await fs.mkdtemp(path.join(path.dirname(target), `.${path.basename(target)}.partial-`));
  try {
    const media = path.join(config.dataDir, MEDIA);
    const copyMedia = async () => {
      if (await exists(media)) await fs.cp(media, path.join(staging, MEDIA), { recursive: true, force: false });
    };
    // Media before and after the snapshot: a file the snapshot refers to is only missing if it
    // was both created and deleted while the backup ran. Files are never rewritten in place.
    await copyMedia();
    if (database !== null) {
      const sequelize = await connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
      try {
        // VACUUM INTO copies a consistent snapshot while the server keeps writing.
        await sequelize.query('VACUUM INTO ?', { replacements: [path.join(staging, DATABASE)] });
      } finally {
        await closeDatabase(sequelize);
      }
    }
    await copyMedia();
    const secret = await generatedSecret(config);
    if (secret) await fs.copyFile(secret, path.join(staging, SECRET));

    const manifest: Manifest = {
      format: 1,
      jvai: VERSION,
      createdAt: new Date().toISOString(),
      database: database === null ? null : 'sqlite',
      secret: secret !== null,
      mediaFiles: await countFiles(path.join(staging, MEDIA)),
    };
    await fs.writeFile(path.join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);

    if (archive) {
      const partial = path.join(staging, path.basename(target));
      const entries = (await fs.readdir(staging)).filter((name) => name !== path.basename(target));
      await tar.create({ file: partial, cwd: staging, gzip: gzipped(target), portable: true }, entries);
      // It holds the JWT secret: as private as the secret's own file.
      await fs.chmod(partial, 0o600);
      await fs.rename(partial, target);
    } else {
      await fs.rm(target, { recursive: true, force: true });
      await fs.rename(staging, target);
    }

    const notes: string[] = [];
    if (database === null) notes.push(`the database is PostgreSQL and is NOT in this backup: back it up with\n  ${PG_DUMP}`);
    if (!secret) notes.push('the JWT secret comes from your configuration (JWT_SECRET) and is not in this backup: keep it with the backup');
    return { target, manifest, notes };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

export interface RestoreResult {
  dataDir: string;
  manifest: Manifest;
  notes: string[];
}

async function readManifest(dir: string, source: string): Promise<Manifest> {
  let manifest: Partial<Manifest>;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(dir, MANIFEST), 'utf8')) as Partial<Manifest>;
  } catch {
    throw new BackupError(`${source} is not a jvai backup (no readable ${MANIFEST})`);
  }
  if (manifest.format !== 1) throw new BackupError(`${source} is a backup of an unknown format (${String(manifest.format)}): restore it with the jvai that wrote it`);
  return manifest as Manifest;
}

/**
 * Puts a backup back into the configured data dir (and SQLite file). Refuses a data dir that
 * already holds anything unless `force`, which replaces its database, media and secret;
 * a server must not be running on it then.
 */
export async function restore(config: Omit<Config, 'jwtSecret'>, source: string, { force = false } = {}): Promise<RestoreResult> {
  source = path.resolve(source);
  if (!(await exists(source))) throw new BackupError(`no backup at ${source}`);
  const dataDir = config.dataDir;
  const database = sqliteFile(config.databaseUrl, dataDir);

  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  let unpacked: string | null = null;
  try {
    let from = source;
    if (!(await fs.stat(source)).isDirectory()) {
      unpacked = await fs.mkdtemp(path.join(path.dirname(dataDir), '.jvai-restore-'));
      try {
        await tar.extract({ file: source, cwd: unpacked, strict: true });
      } catch (err) {
        throw new BackupError(`cannot read ${source} as a tar file: ${(err as Error).message}`);
      }
      from = unpacked;
    }
    const manifest = await readManifest(from, source);
    if (manifest.database === 'sqlite' && database === null) {
      throw new BackupError('this backup holds a SQLite database, but DATABASE_URL points at PostgreSQL: unset it to restore into the data dir');
    }
    if (manifest.database === null && database !== null) {
      throw new BackupError(`this backup holds no database (it was taken on PostgreSQL): restore the database with\n  ${PG_RESTORE}\nthen run this again with DATABASE_URL set, for the media and the secret`);
    }

    const occupied = ((await exists(dataDir)) && !(await isEmptyDir(dataDir))) || (database !== null && (await exists(database)));
    if (occupied && !force) {
      throw new BackupError(`${dataDir} is not empty: restoring would replace its database, media and secret. Stop any server running on it, then pass --force`);
    }
    if (occupied) {
      const stale = [path.join(dataDir, MEDIA), path.join(dataDir, SECRET)];
      if (database !== null) stale.push(database, `${database}-wal`, `${database}-shm`, `${database}-journal`);
      await Promise.all(stale.map((file) => fs.rm(file, { recursive: true, force: true })));
    }

    await fs.mkdir(dataDir, { recursive: true });
    if (database !== null) {
      await fs.mkdir(path.dirname(database), { recursive: true });
      await fs.copyFile(path.join(from, DATABASE), database);
    }
    if (await exists(path.join(from, MEDIA))) await fs.cp(path.join(from, MEDIA), path.join(dataDir, MEDIA), { recursive: true });
    if (manifest.secret) {
      await fs.copyFile(path.join(from, SECRET), path.join(dataDir, SECRET));
      await fs.chmod(path.join(dataDir, SECRET), 0o600);
    }

    const notes: string[] = [];
    if (database === null) notes.push(`the database is PostgreSQL: restore it with\n  ${PG_RESTORE}`);
    if (!manifest.secret) notes.push('the backup holds no JWT secret: configure the one it was taken with (JWT_SECRET), or every user logs in again');
    return { dataDir, manifest, notes };
  } finally {
    if (unpacked) await fs.rm(unpacked, { recursive: true, force: true });
  }
}
