/**
 * The served OpenAPI document must describe the API that answers: the same paths as the
 * router, and for every operation a success schema that real responses match. Every route is
 * driven for real and each 2xx body is parsed with the zod schema the route declares.
 */
import t from 'tap';
import { z } from 'zod';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type ResponseObserver } from './helpers/api.js';
import { MATRIX, objectWorlds, ok } from './helpers/objects.js';
import { form, pngBytes } from './helpers/images.js';
import { apiRoutes } from '../src/http/routes/index.js';
import { buildOpenApi, openApiPath } from '../src/http/openapi.js';
import { message, responseSchemas } from '../src/http/responses.js';
import { route, type Route } from '../src/http/route.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

const keyOf = (r: Route) => `${r.method.toUpperCase()} ${openApiPath(r.path)}`;

t.test('OpenAPI document matches the routes', async (t) => {
  const server = await startTestServer(t);
  const res = await new Api(server.url).get('/api/schema/');
  t.equal(res.status, 200);
  type Operation = { summary?: string; responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> };
  const doc = res.body as { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };
  t.match(doc.openapi, /^3\./);

  const documented = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      documented.add(`${method.toUpperCase()} ${path}`);
      t.ok(op.summary, `${method} ${path} has a summary`);
      // The documented path, with sample ids, must reach a route for that method.
      const concrete = path.replace(/\{\w+\}/g, '1');
      const match = server.app.router.match(concrete, method.toUpperCase());
      t.ok(match.pathAndMethod.length > 0, `${method.toUpperCase()} ${path} is served`);
      // Exactly one success status; unless it is a 204, its body refers to a component that exists.
      const success = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      t.equal(success.length, 1, `${method} ${path} has one success status`);
      const content = Object.values(op.responses[success[0]].content ?? {});
      if (success[0] === '204') t.equal(content.length, 0, `${method} ${path}: 204 has no body`);
      else t.ok(content.length === 1 && doc.components.schemas[content[0].schema.$ref?.replace('#/components/schemas/', '') ?? ''], `${method} ${path} declares its body`);
    }
  }

  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map(([, ref]) => ref);
  const resolve = (ref: string) => ref.split('/').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], doc);
  t.same(refs.filter((ref) => resolve(ref) === undefined), [], `all ${refs.length} $refs resolve within the document`);

  const served = new Set<string>();
  for (const layer of server.app.router.stack) {
    const path = `${String(layer.path).replace(/:(\w+)/g, '{$1}')}/`;
    for (const method of layer.methods.filter((m) => METHODS.includes(m.toLowerCase()))) served.add(`${method} ${path}`);
  }
  for (const route of served) t.ok(documented.has(route), `${route} is documented`);
  for (const route of documented) t.ok(served.has(route), `${route} exists`);

  const docs = await fetch(`${server.url}/api/docs/`);
  t.equal(docs.status, 200);
  t.match(docs.headers.get('content-type'), /text\/html/);
  t.match(await docs.text(), /fetch\('\/api\/schema\/'\)/, 'the docs page renders the served document');
});

t.test('every REST endpoint is documented', async (t) => {
  const server = await startTestServer(t);
  const { body } = await new Api(server.url).get('/api/schema/');
  const endpoints = [
    'post /api/users/register/', 'post /api/users/login/', 'post /api/token/', 'post /api/token/refresh/',
    'get /api/users/me/', 'get /api/users/', 'get /api/users/{id}/', 'put /api/users/{id}/', 'patch /api/users/{id}/', 'delete /api/users/{id}/',
    'post /api/users/{id}/follow/', 'post /api/users/{id}/unfollow/', 'get /api/users/{id}/followers/', 'get /api/users/{id}/following/',
    'get /api/users/online/', 'post /api/users/set-online/', 'post /api/users/set-offline/',
    'post /api/posts/', 'get /api/posts/', 'get /api/posts/feed/', 'get /api/posts/my_posts/', 'get /api/posts/{id}/', 'patch /api/posts/{id}/', 'delete /api/posts/{id}/', 'post /api/posts/{id}/like/',
    'post /api/comments/', 'get /api/comments/', 'patch /api/comments/{id}/', 'delete /api/comments/{id}/', 'post /api/comments/{id}/like/',
    'post /api/groups/', 'get /api/groups/', 'get /api/groups/my_groups/', 'get /api/groups/{id}/', 'patch /api/groups/{id}/', 'delete /api/groups/{id}/', 'post /api/groups/{id}/join/', 'post /api/groups/{id}/leave/',
    'post /api/messages/', 'get /api/messages/', 'get /api/messages/conversations/', 'get /api/messages/with_user/', 'post /api/messages/{id}/mark_as_read/',
    'post /api/group-messages/', 'get /api/group-messages/group_messages/',
    'post /api/calls/', 'post /api/calls/start/', 'get /api/calls/', 'get /api/calls/{id}/', 'put /api/calls/{id}/', 'delete /api/calls/{id}/',
    'get /api/calls/history/', 'get /api/calls/active/', 'get /api/calls/missed/', 'post /api/calls/{id}/accept/', 'post /api/calls/{id}/reject/', 'post /api/calls/{id}/end/',
  ];
  for (const entry of endpoints) {
    const [method, path] = entry.split(' ');
    t.ok(body.paths[path]?.[method], `${entry} is in the document`);
  }
});

t.test('a schema the document cannot show stops the build, naming the route', async (t) => {
  const base = { path: '/things/:id', summary: 'A thing', tag: 'things', async handler() {} };
  const build = (r: Route) => () => buildOpenApi([r], 'test');
  t.doesNotThrow(build(route({ ...base, method: 'post', body: z.object({ when: z.string() }), response: message })), 'the same route, representable');
  t.throws(build(route({ ...base, method: 'post', body: z.object({ when: z.date() }), response: message })), /POST \/api\/things\/\{id\}\/: its body schema has no JSON Schema form/);
  t.throws(build(route({ ...base, method: 'get', query: z.object({ at: z.date() }), response: message })), /GET \/api\/things\/\{id\}\/: its query schema/);
  t.throws(build(route({ ...base, method: 'get' })), /GET \/api\/things\/\{id\}\/: no response schema/, 'a body without a schema');
  t.throws(build(route({ ...base, method: 'get', response: z.object({ id: z.number() }) })), /GET \/api\/things\/\{id\}\/: no response schema named/, 'a schema outside the registry');
  t.throws(build(route({ ...base, method: 'delete', status: 204, response: z.object({}) })), /DELETE .*204 sends no body/);
});

/** The route a request reached (paths below /api, ids in place of parameters). */
const routeOf = (() => {
  const table = apiRoutes.map((r) => ({ r, pattern: new RegExp(`^/api${r.path.replace(/:\w+/g, '\\d+')}/?$`) }));
  return (method: string, path: string) => table.find(({ r, pattern }) => r.method === method.toLowerCase() && pattern.test(path.split('?')[0]))?.r;
})();

/**
 * Checks each 2xx answer against its route's declared status, media type and schema. A route
 * counts as exercised once a body passed; an empty list passes any item schema, so it does not.
 */
function responseCheck() {
  const exercised = new Set<string>();
  /** The first failure of each route (one wrong presenter would otherwise repeat on every call). */
  const failed = new Map<string, string>();
  const fail = (key: string, why: string) => void (failed.has(key) || failed.set(key, why));
  const observe: ResponseObserver = (method, path, res) => {
    if (res.status < 200 || res.status > 299) return;
    const r = routeOf(method, path);
    if (!r) return fail(`${method} ${path}`, `${res.status} from no route in the table`);
    const where = `${keyOf(r)} (${method} ${path})`;
    const status = r.status ?? 200;
    if (res.status !== status) return fail(keyOf(r), `${where}: answered ${res.status}, documented ${status}`);
    if (!r.response) {
      if (res.body !== null) fail(keyOf(r), `${where}: ${status} with a body`);
      else exercised.add(keyOf(r));
      return;
    }
    const mediaType = responseSchemas.get(r.response)?.mediaType ?? 'application/json';
    if (!res.headers.get('content-type')?.startsWith(mediaType)) return fail(keyOf(r), `${where}: content-type ${res.headers.get('content-type')}, documented ${mediaType}`);
    const parsed = r.response.safeParse(res.body);
    if (!parsed.success) return fail(keyOf(r), `${where}:\n${z.prettifyError(parsed.error)}\nbody: ${JSON.stringify(res.body).slice(0, 2000)}`);
    if (!(Array.isArray(res.body) && res.body.length === 0)) exercised.add(keyOf(r));
  };
  return { observe, exercised, failures: () => [...failed.values()] };
}

t.test('every route answers with the body its schema declares', async (t) => {
  const server = await startTestServer(t);
  const check = responseCheck();
  const api = new Api(server.url, undefined, check.observe);

  // Object routes: each called, on a fresh object, by a role the authorization matrix lets through.
  const worlds = await objectWorlds(api);
  for (const r of apiRoutes.filter((r) => r.path.includes('/:'))) {
    const key = `${r.method.toUpperCase()} ${r.path}`;
    const row = MATRIX[key];
    if (!row) throw new Error(`${key} has no row in MATRIX`);
    const role = (['owner', 'participant', 'stranger'] as const).find((role) => row[role] < 300);
    if (!role) throw new Error(`${key}: no role gets a 2xx`);
    const world = await worlds[row.kind]();
    await ok(world[role].api.request(r.method.toUpperCase(), `/api${r.path.replace(':id', String(world.id))}/`, row.body?.()), row[role], key);
  }

  // A small world for the collections: media on a profile, a post and a group; a follow, a
  // comment and a like; direct and group messages; calls in every state.
  const [alice, bob] = await Promise.all([makeUser(api), makeUser(api)]);
  const png = { bytes: await pngBytes(), name: 'a.png', type: 'image/png' };
  await ok(alice.api.patch(`/api/users/${alice.id}/`, form({ bio: 'hello' }, { field: 'profile_picture', ...png })), 200, 'avatar');
  await ok(bob.api.post(`/api/users/${alice.id}/follow/`), 200, 'follow');
  const post = await ok(alice.api.post('/api/posts/', form({ content: 'with a picture' }, { field: 'image', ...png })), 201, 'post');
  await ok(bob.api.post('/api/comments/', { post: post.id, content: 'nice' }), 201, 'comment');
  await ok(bob.api.post(`/api/posts/${post.id}/like/`), 200, 'like');
  const group = await ok(alice.api.post('/api/groups/', form({ name: 'pictures', description: 'a group' }, { field: 'image', ...png })), 201, 'group');
  const other = await ok(alice.api.post('/api/groups/', { name: 'other' }), 201, 'group');
  await ok(bob.api.post(`/api/groups/${group.id}/join/`), 200, 'join');
  await ok(bob.api.post(`/api/groups/${other.id}/join/`), 200, 'join');
  await ok(bob.api.post(`/api/groups/${other.id}/leave/`), 200, 'leave');
  await ok(bob.api.post('/api/group-messages/', { group: group.id, content: 'hi all' }), 201, 'group message');
  const dm = await ok(alice.api.post('/api/messages/', { receiver_username: bob.username, content: 'hi bob' }), 201, 'dm');
  await ok(bob.api.post(`/api/messages/${dm.id}/mark_as_read/`), 200, 'read');

  const answered = await ok(bob.api.post('/api/calls/start/', { callee: alice.id, call_type: 'video' }), 201, 'call');
  await ok(alice.api.post(`/api/calls/${answered.id}/accept/`), 200, 'accept');
  await ok(bob.api.post(`/api/calls/${answered.id}/end/`), 200, 'end');
  const declined = await ok(alice.api.post('/api/calls/', { receiver_username: bob.username }), 201, 'call');
  await ok(bob.api.post(`/api/calls/${declined.id}/reject/`), 200, 'reject');
  const unanswered = await ok(alice.api.post('/api/calls/', { receiver: bob.id }), 201, 'call');
  await ok(alice.api.post(`/api/calls/${unanswered.id}/end/`), 200, 'hang up');
  await ok(alice.api.post('/api/calls/', { receiver: bob.id }), 201, 'ringing call');
  // Bob has been online (a last_seen), Alice is now.
  await ok(bob.api.post('/api/users/set-online/'), 200, 'online');
  await ok(bob.api.post('/api/users/set-offline/'), 200, 'offline');
  await ok(alice.api.post('/api/users/set-online/'), 200, 'online');

  const reads: [typeof bob, string][] = [
    [bob, `/api/users/?search=${alice.username}`],
    [bob, '/api/users/me/'],
    [bob, '/api/users/online/'],
    [bob, `/api/users/${bob.id}/following/`],
    [bob, '/api/posts/'],
    [bob, '/api/posts/feed/'],
    [alice, '/api/posts/my_posts/'],
    [bob, `/api/comments/?post_id=${post.id}`],
    [bob, '/api/groups/'],
    [bob, '/api/groups/my_groups/'],
    [bob, '/api/messages/'],
    [bob, '/api/messages/conversations/'],
    [bob, `/api/messages/with_user/?user_id=${alice.id}`],
    [bob, '/api/group-messages/'],
    [bob, `/api/group-messages/group_messages/?group_id=${group.id}`],
    [bob, '/api/calls/'],
    [bob, '/api/calls/history/'],
    [bob, '/api/calls/active/'],
    [bob, '/api/calls/missed/'],
    [bob, '/api/calls/ice-servers/'],
    [bob, '/api/schema/'],
    [bob, '/api/docs/'],
  ];
  for (const [who, path] of reads) await ok(who.api.get(path), 200, path);

  // Bob's event log then holds every kind of logged event.
  await ok(alice.api.delete(`/api/groups/${group.id}/`), 204, 'delete group');
  const log = await ok(bob.api.get('/api/events/'), 200, 'events');
  const kinds = new Set(log.events.map((e: { event: string }) => e.event));
  t.same([...kinds].sort(), ['call:accepted', 'call:ended', 'call:missed', 'call:rejected', 'call:started', 'dm:new', 'dm:read', 'group:deleted', 'group:joined', 'group:left', 'group:message'], 'every kind of event was checked');

  await ok(api.post('/api/users/login/', { username: bob.username, password: bob.password }), 200, 'login');
  const pair = await ok(api.post('/api/token/', { username: bob.email, password: bob.password }), 200, 'token');
  const rotated = await ok(api.post('/api/token/refresh/', { refresh: pair.refresh }), 200, 'refresh');
  await ok(api.as(rotated.access).post('/api/users/logout/', { refresh: rotated.refresh }), 200, 'logout');
  await ok(bob.api.post('/api/users/change-password/', { old_password: bob.password, new_password: 'An0ther-Horse-Battery' }), 200, 'change password');

  t.same(check.failures(), [], 'every 2xx matched its declared status, media type and schema');
  t.same(apiRoutes.map(keyOf).filter((k) => !check.exercised.has(k)), [], 'every route was exercised with a body to check');
});
