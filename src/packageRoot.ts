import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

/** Whether this code runs from the bundle (dist/bundle, scripts/bundle.mjs) rather than from TypeScript (tsx). */
export const BUNDLED = path.extname(here) === '.js';

/** The directory of the package's package.json, found from source and bundle alike. */
export const PACKAGE_ROOT = findRoot(path.dirname(here));

function findRoot(start: string): string {
  for (let dir = start, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`jvai: no package.json above ${start}`);
}
