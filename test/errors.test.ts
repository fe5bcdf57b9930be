import t from 'tap';
import Database from 'better-sqlite3';
import { ForeignKeyConstraintError } from 'sequelize';
import { flattenFieldErrors, NotFound } from '../src/errors.js';
import { isForeignKeyViolation } from '../src/db/constraints.js';
import { checkedWrite } from '../src/services/references.js';
import { describeErrorBody } from '../cli/client/errors.js';

t.test('flattenFieldErrors: fields named, non-field errors bare, the caller picks the separator', async (t) => {
  const fields = { non_field_errors: ['Nope.'], content: ['This field is required.', 'Too short.'] };
  t.equal(flattenFieldErrors(fields, ' '), 'Nope. content: This field is required. Too short.');
  t.equal(flattenFieldErrors(fields, '\n'), 'Nope.\ncontent: This field is required. Too short.');
  t.equal(flattenFieldErrors({}, '; '), '');
});

t.test('flattenFieldErrors: bodies off the wire may nest objects or hold plain strings', async (t) => {
  t.equal(flattenFieldErrors({ author: { username: ['Taken.'], bio: 'Too long.' }, detail2: 7 }, '; '), 'author: username: Taken.; bio: Too long.; detail2: 7');
});

t.test('describeErrorBody uses the same flattening for object and list bodies', async (t) => {
  t.equal(describeErrorBody(400, 'Bad Request', { content: ['This field is required.'], image: ['Bad image.'] }), 'content: This field is required.; image: Bad image.');
  t.equal(describeErrorBody(400, 'Bad Request', ['One.', 'Two.']), 'One. Two.');
  t.equal(describeErrorBody(404, 'Not Found', { detail: 'Not found.' }), 'Not found.');
  t.equal(describeErrorBody(502, 'Bad Gateway', {}), 'HTTP 502 Bad Gateway');
});

t.test('isForeignKeyViolation knows the raw drivers\' errors and Sequelize\'s', async (t) => {
  const db = new Database(':memory:');
  db.exec('PRAGMA foreign_keys = ON; CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (parent_id INTEGER NOT NULL UNIQUE REFERENCES parent(id) ON DELETE CASCADE)');
  const failed = (sql: string): unknown => {
    try {
      db.exec(sql);
    } catch (err) {
      return err;
    }
    return null;
  };
  const sqliteError = failed('INSERT INTO child VALUES (1)');
  db.exec('INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1)');
  const uniqueError = failed('INSERT INTO child VALUES (1)');
  db.close();
  t.ok(isForeignKeyViolation(sqliteError), 'SQLite');
  t.ok(isForeignKeyViolation(Object.assign(new Error('insert or update on table "child" violates foreign key constraint'), { code: '23503' })), 'PostgreSQL');
  t.ok(isForeignKeyViolation(new ForeignKeyConstraintError({})), 'Sequelize');
  t.ok(uniqueError, 'the unique index refused the second child');
  t.notOk(isForeignKeyViolation(uniqueError), 'another constraint');
  t.notOk(isForeignKeyViolation(undefined));
});

t.test('checkedWrite: a foreign-key failure gets the check\'s error when the checked row went meanwhile, and stays a failure otherwise', async (t) => {
  const violation = Object.assign(new Error('FOREIGN KEY constraint failed'), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
  let exists = true;
  const check = async () => {
    if (!exists) throw new NotFound();
    return 7;
  };
  t.equal(await checkedWrite(check, async (id) => id * 2), 14, 'the write gets what the check found');
  await t.rejects(
    checkedWrite(check, async () => {
      exists = false; // deleted between the check and the write
      throw violation;
    }),
    { status: 404, message: 'Not found.' },
    'the check\'s own error',
  );
  exists = true;
  await t.rejects(checkedWrite(check, async () => Promise.reject(violation)), violation, 'unexplained: the original error');
  await t.rejects(checkedWrite(check, async () => Promise.reject(new Error('other'))), { message: 'other' });
});
