/**
 * No object literal in the server (src/) declares a getter or setter. V8 pretenures such literals (allocates
 * them straight into the old generation) once a few survive, and their accessors' closures then
 * keep whatever they capture alive past young-generation collections. A route input built that way
 * promoted every request's objects (~1.5 MB per scavenge, a full mark-compact every half second
 * under load); as a class with accessors on its prototype it costs nothing. See bench/HISTORY.md (Dec 5, later).
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '..');

function* sources(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (/\.tsx?$/.test(entry.name)) yield file;
  }
}

/** `file:line` of every accessor declared in an object literal. */
function literalAccessors(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if ((ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) && ts.isObjectLiteralExpression(node.parent)) {
      found.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

t.test('the check finds a getter in an object literal, and not in a class', async (t) => {
  t.same(literalAccessors('x.ts', 'const input = {\n  get user() { return 1; },\n};'), ['x.ts:2']);
  t.same(literalAccessors('x.ts', 'const input = { set user(v: number) {} };'), ['x.ts:1']);
  t.same(literalAccessors('x.ts', 'class Input { get user() { return 1; } }'), []);
});

t.test('no object literal in src/ has accessors', async (t) => {
  // The server's code; the client builds its few such objects once.
  const files = [...sources('src')];
  t.ok(files.length > 50, 'sources found');
  const found = files.flatMap((file) => literalAccessors(file, fs.readFileSync(path.join(ROOT, file), 'utf8')));
  t.same(found, [], 'declare accessors on a class instead');
});
