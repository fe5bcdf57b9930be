/**
 * Statements the database can keep prepared. SQLite plans with a LIMIT's value, so a statement
 * whose LIMIT is bound is parsed and planned again on every run (the feed's query cost 2.5× as
 * much): page sizes are written into the SQL by limitSql() instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { keyset, limitSql } from '../src/services/pagination.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function* sources(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (entry.name.endsWith('.ts')) yield file;
  }
}

t.test('no raw statement binds its LIMIT', async (t) => {
  const bound = [...sources('src')].filter((file) => /LIMIT \?/i.test(fs.readFileSync(path.join(ROOT, file), 'utf8')));
  t.same(bound, []);
});

t.test('limitSql writes only whole, non-negative row counts', async (t) => {
  t.equal(limitSql(51), 'LIMIT 51');
  t.equal(limitSql(0), 'LIMIT 0');
  for (const bad of [1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) t.throws(() => limitSql(bad), TypeError, String(bad));
  t.throws(() => limitSql('1; DROP TABLE users' as unknown as number), TypeError);
});

t.test('keyset: the look-ahead row in the LIMIT, the cursor bound', async (t) => {
  t.same(keyset({ limit: 20 }, 'p.id'), { and: '', params: [], order: ' ORDER BY p.id DESC LIMIT 21' });
  t.same(keyset({ limit: 20, before: 99 }, 'p.id'), { and: ' AND p.id < ?', params: [99], order: ' ORDER BY p.id DESC LIMIT 21' });
});
