import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './packageRoot.js';

/** The package version. */
export const VERSION = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
