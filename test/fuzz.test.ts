/**
 * Schema-driven fuzz: for every operation of the served OpenAPI document, requests with
 * generated bodies, query strings and path ids of wrong types and sizes, NUL and odd unicode,
 * wrong or garbage Content-Type and Content-Encoding. The properties: never a 5xx, never a
 * stack trace, and a 4xx changes nothing in the database.
 *
 * Bounded for the suite (JVAI_FUZZ_RUNS per operation, default 8); raise it for a longer run:
 *   npm run fuzz                       (300 per operation; JVAI_FUZZ_RUNS=N to change)
 */
import zlib from 'node:zlib';
import t from 'tap';
import fc from 'fast-check';
import { QueryTypes } from 'sequelize';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';
import { FUZZ_RUNS, FUZZ_SEED, LEAK } from './helpers/fuzz.js';

interface Operation {
  method: string;
  path: string;
  query: string[];
  bodyFields: string[];
  multipart: boolean;
}

/** Strings that have broken parsers, drivers and databases before. */
const nasty = fc.constantFrom(
  '\0', 'a\0b', '\u0000\u0000', '%00', '\uFEFF', '\u202E', '\uD800', '\uDFFF', '😀', 'e\u0301', '\u0130', 'ß', '\r\n', '\t', ' ', '',
  "'", '"', '\\', '`', ';--', "' OR 1=1 --", '${x}', '{{x}}', '<script>', '../../etc/passwd', 'NaN', 'Infinity', '-0', '1e309',
  '0x10', '9007199254740993', '-1', '0', '1.5', 'true', 'null', '[]', '{}', 'x'.repeat(70_000),
);
const withNul = fc.tuple(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 })).map(([a, b]) => `${a}\0${b}`);
const weirdString = fc.oneof(
  { weight: 3, arbitrary: withNul },
  { weight: 2, arbitrary: nasty },
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 300 }),
);
const weirdNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER + 2));
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: weirdString },
  weirdNumber,
  fc.boolean(),
  fc.constant(null),
  fc.array(weirdString, { maxLength: 3 }),
  fc.dictionary(weirdString, weirdString, { maxKeys: 3 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A body for `fields`: each field wrong, missing or plausible, plus stray keys; or no object at all. */
const bodyFor = (fields: string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record(Object.fromEntries(fields.map((f) => [f, weirdValue])), { requiredKeys: [] }).chain((known) => fc.dictionary(weirdString, weirdValue, { maxKeys: 2 }).map((extra) => ({ ...extra, ...known }))) },
    fc.jsonValue({ maxDepth: 2 }),
  );

/** Query string pieces, percent-encoded or deliberately broken. */
const rawQueryValue = fc.oneof(
  weirdString.map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'))),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%C0%80', '%FF', '+', '&', '=', '%2500'),
  weirdNumber.map(String),
);

function queryFor(names: string[]) {
  return fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...(names.length ? names : ['x'])), rawQueryValue), rawQueryValue), { maxLength: 4 })
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=fuzz',
  'multipart/form-data',
  'application/xml',
  'garbage',
  '',
];
const ENCODINGS = ['', '', 'gzip', 'gzip-garbage', 'deflate-garbage', 'br-garbage', 'x-bogus', 'gzip, gzip', 'identity'];

interface Sent {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Blob | FormData;
}

function encodeBody(raw: Buffer, encoding: string): { body: Buffer; header?: string } {
  switch (encoding) {
    case '':
      return { body: raw };
    case 'gzip':
      return { body: zlib.gzipSync(raw), header: 'gzip' };
    case 'gzip-garbage':
      return { body: raw, header: 'gzip' };
    case 'deflate-garbage':
      return { body: raw, header: 'deflate' };
    case 'br-garbage':
      return { body: raw, header: 'br' };
    default:
      return { body: raw, header: encoding };
  }
}

t.test('schema-driven fuzz: never a 5xx, never a stack trace, a 4xx changes nothing', async (t) => {
  // Nothing may change the database on its own during the run: the victim's call rings for a day.
  const server = await startTestServer(t, { loginFailureLimit: 1_000_000, ringTimeoutSeconds: 24 * 60 * 60 });
  const api = new Api(server.url);
  let actor: TestUser = await makeUser(api);
  const victim = await makeUser(api);
  const third = await makeUser(api);

  // The victim's objects: real ids the actor may not touch.
  const post = (await victim.api.post('/api/posts/', { content: 'victim post' })).body;
  const comment = (await victim.api.post('/api/comments/', { post: post.id, content: 'victim comment' })).body;
  const group = (await victim.api.post('/api/groups/', { name: 'victim group' })).body;
  const dm = (await victim.api.post('/api/messages/', { receiver: third.id, content: 'private' })).body;
  const call = (await victim.api.post('/api/calls/', { receiver: third.id, call_type: 'audio' })).body;
  const victimIds = [victim.id, post.id, comment.id, group.id, dm.id, call.id].map(String);
  t.ok(victimIds.every((id) => /^\d+$/.test(id)), 'fixtures created');

  const doc = (await api.get('/api/schema/')).body as { paths: Record<string, Record<string, any>> };
  const operations: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const content = op.requestBody?.content ?? {};
      const schema = content['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        query: (op.parameters ?? []).filter((p: { in: string }) => p.in === 'query').map((p: { name: string }) => p.name),
        bodyFields: Object.keys(schema?.properties ?? {}),
        multipart: Boolean(content['multipart/form-data']),
      });
    }
  }
  t.ok(operations.length > 50, `${operations.length} operations`);

  const tables = (await server.sequelize.getQueryInterface().showAllTables()).map(String).filter((name) => !/^sequelize/i.test(name)).sort();
  /** Every row of every table: what a 4xx must leave as it was. */
  const snapshot = async () => {
    const parts: string[] = [];
    for (const table of tables) {
      const rows = await server.sequelize.query(`SELECT * FROM "${table}" ORDER BY 1`, { type: QueryTypes.SELECT });
      parts.push(`${table}:${JSON.stringify(rows)}`);
    }
    return parts.join('\n');
  };

  const pathId = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...victimIds) },
    fc.constantFrom('0', '-1', '1.5', 'abc', '1e3', '%00', '%20', '%E2%80%AE', '99999999999999999999', '007', '0x1', '%2e%2e', '%'),
    weirdString.map((s) => encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '?'))).filter((s) => s.length > 0),
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map(String),
  );
  const auth = fc.constantFrom('actor', 'actor', 'actor', 'none', 'garbage', 'nul', 'refresh');

  let before = await snapshot();
  const send = async (req: Sent) => {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body });
    return { status: res.status, text: await res.text() };
  };

  for (const op of operations) {
    const hasBody = op.method !== 'GET';
    const request = fc.record({
      id: pathId,
      query: queryFor(op.query),
      auth,
      body: bodyFor(op.bodyFields),
      rawBody: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, weirdString, fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('latin1'))),
      // Mostly a well-formed JSON request, so that the values reach the handlers.
      contentType: fc.oneof({ weight: 3, arbitrary: fc.constant('application/json') }, fc.constantFrom(...CONTENT_TYPES)),
      encoding: fc.oneof({ weight: 3, arbitrary: fc.constant('') }, fc.constantFrom(...ENCODINGS)),
      multipart: fc.boolean(),
      file: fc.uint8Array({ maxLength: 256 }),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const url = `${server.url}${op.path.replace(/\{\w+\}/g, r.id)}${r.query}`;
        const headers: Record<string, string> = {};
        if (r.auth === 'actor') headers.Authorization = `Bearer ${actor.access}`;
        else if (r.auth === 'garbage') headers.Authorization = 'Bearer x.y.z';
        else if (r.auth === 'nul') headers.Authorization = `Bearer ${actor.access.slice(0, 20)}%00`;
        else if (r.auth === 'refresh') headers.Authorization = `Bearer ${actor.refresh}`;
        let body: Blob | FormData | undefined;
        if (hasBody && op.multipart && r.multipart) {
          const form = new FormData();
          for (const [k, v] of Object.entries(typeof r.body === 'object' && r.body && !Array.isArray(r.body) ? r.body : { x: r.body })) form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
          form.append(op.path.includes('users') ? 'profile_picture' : 'image', new Blob([r.file]), 'f\0.png');
          body = form;
        } else if (hasBody) {
          const text = r.rawBody ?? JSON.stringify(r.body) ?? 'null';
          const encoded = encodeBody(Buffer.from(text), r.encoding);
          body = new Blob([new Uint8Array(encoded.body)]);
          if (encoded.header) headers['Content-Encoding'] = encoded.header;
          if (r.contentType) headers['Content-Type'] = r.contentType;
        }
        const res = await send({ method: op.method, url, headers, body });
        const where = `${op.method} ${url.slice(server.url.length, server.url.length + 200)} [${JSON.stringify(headers).slice(0, 200)}] → ${res.status} ${res.text.slice(0, 300)}`;
        if (res.status >= 500) throw new Error(`5xx: ${where}`);
        if (LEAK.test(res.text)) throw new Error(`leak: ${where}`);
        const after = await snapshot();
        if (res.status >= 400 && after !== before) throw new Error(`a ${res.status} changed the database: ${where}`);
        before = after;
        if (res.status < 300 && (await actor.api.get('/api/users/me/')).status === 401) {
          // The fuzz logged its own session out (log in again) or deleted its account (a new one).
          const login = await api.post('/api/users/login/', { username: actor.username, password: actor.password });
          actor = login.status === 200 ? { ...actor, access: login.body.access, refresh: login.body.refresh, api: api.as(login.body.access) } : await makeUser(api);
          before = await snapshot();
        }
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, endOnFailure: true },
    );
  }
  t.pass(`${operations.length} operations × ${FUZZ_RUNS} requests`);
  // The victim's objects are all still there and unchanged where the fuzz had no right to change them.
  t.equal((await victim.api.get(`/api/posts/${post.id}/`)).body.content, 'victim post');
  t.equal((await victim.api.get(`/api/messages/${dm.id}/`)).body.content, 'private');
});
