/** The served OpenAPI document and the router must describe exactly the same API. */
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api } from './helpers/api.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

t.test('OpenAPI document matches the routes', async (t) => {
  const server = await startTestServer(t);
  const res = await new Api(server.url).get('/api/schema/');
  t.equal(res.status, 200);
  const doc = res.body as { openapi: string; paths: Record<string, Record<string, { summary?: string }>> };
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
    }
  }

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
});

t.test('the seed endpoints are all documented', async (t) => {
  const server = await startTestServer(t);
  const { body } = await new Api(server.url).get('/api/schema/');
  const seed = [
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
  for (const entry of seed) {
    const [method, path] = entry.split(' ');
    t.ok(body.paths[path]?.[method], `${entry} is in the document`);
  }
});
