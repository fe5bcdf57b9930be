import t from 'tap';
import { flattenFieldErrors } from '../src/errors.js';
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
