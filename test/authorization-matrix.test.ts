/**
 * The authorization matrix, generated from the route table: every route that takes an object
 * id is called by each role — anonymous, a stranger (logged in, no relation to the object; for
 * a group, a non-member), a participant and the owner — on a fresh object, with the status
 * each must get. After every refused write, the object (as its owner reads it) is unchanged.
 * A route added without a row in MATRIX (test/helpers/objects.ts) fails the test.
 */
import t from 'tap';
import { apiRoutes } from '../src/http/routes/index.js';
import { startTestServer } from './helpers/server.js';
import { Api } from './helpers/api.js';
import { MATRIX, ROLES, objectWorlds } from './helpers/objects.js';

const objectRoutes = apiRoutes.filter((r) => r.path.includes('/:'));

t.test('every object route has a row in the matrix', async (t) => {
  const keys = objectRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
  t.same(keys.filter((k) => !(k in MATRIX)), [], 'no route without expectations');
  t.same(Object.keys(MATRIX).filter((k) => !keys.includes(k)), [], 'no expectations without a route');
});

t.test('authorization matrix', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const worlds = await objectWorlds(api);

  for (const route of objectRoutes) {
    const key = `${route.method.toUpperCase()} ${route.path}`;
    const row = MATRIX[key];
    if (!row) continue;
    t.test(key, async (t) => {
      for (const role of ROLES) {
        const world = await worlds[row.kind]();
        const who = role === 'anonymous' ? undefined : world[role];
        const path = `/api${route.path.replace(':id', String(world.id))}/`;
        const before = await world.snapshot();
        const res = await api.as(who?.access).request(route.method.toUpperCase(), path, row.body?.());
        t.equal(res.status, row[role], `${role}: ${res.status} ${res.status >= 400 ? JSON.stringify(res.body) : ''}`);
        if (route.method !== 'get' && res.status >= 400) t.same(await world.snapshot(), before, `${role}: refused, and nothing changed`);
      }
    });
  }
});
