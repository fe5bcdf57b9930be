/**
 * Imports point down only (README, Development): no module imports one of a higher layer, and the
 * two transports of the same layer (REST and realtime) never import each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Highest first; the first matching prefix decides. */
const LAYERS: [layer: string, rank: number, prefixes: string[]][] = [
  ['cli', 9, ['cli/']],
  ['server', 8, ['src/server.ts', 'src/app.ts']],
  ['http', 7, ['src/http/']],
  ['realtime', 7, ['src/realtime/']],
  ['admin', 7, ['src/admin/']],
  ['services', 6, ['src/services/']],
  ['presenters', 5, ['src/presenters/']],
  ['vocabulary', 1, ['src/events/types.ts']],
  ['data', 4, ['src/events/', 'src/db/', 'src/media/']],
  ['models', 3, ['src/models/']],
  ['schemas', 2, ['src/schemas/']],
  ['base', 1, ['src/']],
];

const layerOf = (file: string) => {
  const found = LAYERS.find(([, , prefixes]) => prefixes.some((p) => file.startsWith(p)));
  if (!found) throw new Error(`no layer for ${file}`);
  return { name: found[0], rank: found[1] };
};

function* sources(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (/\.tsx?$/.test(entry.name)) yield file;
  }
}

t.test('imports point down', async (t) => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of [...sources('src'), ...sources('cli')]) {
    const from = layerOf(file);
    for (const [, specifier] of fs.readFileSync(path.join(ROOT, file), 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = path.join(path.dirname(file), specifier!).replace(/\.js$/, '.ts');
      const to = layerOf(fs.existsSync(path.join(ROOT, `${target}x`)) ? `${target}x` : target);
      checked++;
      if (to.rank > from.rank || (to.rank === from.rank && to.name !== from.name && from.rank === 7)) violations.push(`${file} (${from.name}) → ${target} (${to.name})`);
    }
  }
  t.ok(checked > 300, `${checked} imports checked`);
  t.same(violations, []);
});
