/**
 * The authorization matrix, generated from the route table: every route that takes an object
 * id is called by each role — anonymous, a stranger (logged in, no relation to the object; for
 * a group, a non-member), a participant and the owner — on a fresh object, with the status
 * each must get. After every refused write, the object (as its owner reads it) is unchanged.
 * A route added without a row here fails the test.
 */
import crypto from 'node:crypto';
import t from 'tap';
import { apiRoutes } from '../src/http/routes/index.js';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser, type TestUser } from './helpers/api.js';

type Role = 'anonymous' | 'stranger' | 'participant' | 'owner';
const ROLES: Role[] = ['anonymous', 'stranger', 'participant', 'owner'];

/** An object of one kind, created fresh for each call, with the users around it. */
interface World {
  id: number;
  owner: TestUser;
  participant: TestUser;
  stranger: TestUser;
  /** The object as its owner reads it. */
  snapshot(): Promise<unknown>;
}

type Kind = 'user' | 'post' | 'comment' | 'group' | 'message' | 'call';

/** Expected status per role, by `METHOD /path`. */
const MATRIX: Record<string, { kind: Kind; body?: () => object } & Record<Role, number>> = {
  // user: the owner is the account itself; the participant follows it.
  'GET /users/:id': { kind: 'user', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  'PUT /users/:id': { kind: 'user', body: () => ({ email: `${crypto.randomUUID()}@example.com`, first_name: 'Changed', last_name: 'Changed' }), anonymous: 401, stranger: 403, participant: 403, owner: 200 },
  'PATCH /users/:id': { kind: 'user', body: () => ({ first_name: 'Changed' }), anonymous: 401, stranger: 403, participant: 403, owner: 200 },
  'DELETE /users/:id': { kind: 'user', anonymous: 401, stranger: 403, participant: 403, owner: 204 },
  'POST /users/:id/follow': { kind: 'user', anonymous: 401, stranger: 200, participant: 200, owner: 400 },
  // Unfollowing someone you do not follow (yourself included) is an idempotent no-op.
  'POST /users/:id/unfollow': { kind: 'user', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  'GET /users/:id/followers': { kind: 'user', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  'GET /users/:id/following': { kind: 'user', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  // post: the participant commented on it.
  'GET /posts/:id': { kind: 'post', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  'PUT /posts/:id': { kind: 'post', body: () => ({ content: 'changed' }), anonymous: 401, stranger: 403, participant: 403, owner: 200 },
  'PATCH /posts/:id': { kind: 'post', body: () => ({ content: 'changed' }), anonymous: 401, stranger: 403, participant: 403, owner: 200 },
  'DELETE /posts/:id': { kind: 'post', anonymous: 401, stranger: 403, participant: 403, owner: 204 },
  'POST /posts/:id/like': { kind: 'post', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  // comment: the participant wrote the post it is on.
  'GET /comments/:id': { kind: 'comment', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  'PUT /comments/:id': { kind: 'comment', body: () => ({ content: 'changed' }), anonymous: 401, stranger: 403, participant: 403, owner: 200 },
  'PATCH /comments/:id': { kind: 'comment', body: () => ({ content: 'changed' }), anonymous: 401, stranger: 403, participant: 403, owner: 200 },
  'DELETE /comments/:id': { kind: 'comment', anonymous: 401, stranger: 403, participant: 403, owner: 204 },
  'POST /comments/:id/like': { kind: 'comment', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  // group: the owner created it, the participant is a member, the stranger is not.
  'GET /groups/:id': { kind: 'group', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  'PATCH /groups/:id': { kind: 'group', body: () => ({ name: 'Changed' }), anonymous: 401, stranger: 403, participant: 403, owner: 200 },
  'PUT /groups/:id': { kind: 'group', body: () => ({ name: 'Changed' }), anonymous: 401, stranger: 403, participant: 403, owner: 200 },
  'DELETE /groups/:id': { kind: 'group', anonymous: 401, stranger: 403, participant: 403, owner: 204 },
  'POST /groups/:id/join': { kind: 'group', anonymous: 401, stranger: 200, participant: 400, owner: 400 },
  'POST /groups/:id/leave': { kind: 'group', anonymous: 401, stranger: 400, participant: 200, owner: 400 },
  'GET /groups/:id/members': { kind: 'group', anonymous: 401, stranger: 200, participant: 200, owner: 200 },
  // message: the owner sent it to the participant.
  'GET /messages/:id': { kind: 'message', anonymous: 401, stranger: 404, participant: 200, owner: 200 },
  'POST /messages/:id/mark_as_read': { kind: 'message', anonymous: 401, stranger: 404, participant: 200, owner: 403 },
  // call: the owner is ringing the participant.
  'GET /calls/:id': { kind: 'call', anonymous: 401, stranger: 404, participant: 200, owner: 200 },
  'PUT /calls/:id': { kind: 'call', body: () => ({ status: 'active' }), anonymous: 401, stranger: 404, participant: 200, owner: 403 },
  'PATCH /calls/:id': { kind: 'call', body: () => ({ status: 'active' }), anonymous: 401, stranger: 404, participant: 200, owner: 403 },
  // Either side may delete a call from their history (a ringing one is hung up first).
  'DELETE /calls/:id': { kind: 'call', anonymous: 401, stranger: 404, participant: 204, owner: 204 },
  'POST /calls/:id/accept': { kind: 'call', anonymous: 401, stranger: 404, participant: 200, owner: 403 },
  'POST /calls/:id/reject': { kind: 'call', anonymous: 401, stranger: 404, participant: 200, owner: 403 },
  'POST /calls/:id/end': { kind: 'call', anonymous: 401, stranger: 404, participant: 200, owner: 200 },
};

const objectRoutes = apiRoutes.filter((r) => r.path.includes('/:'));

t.test('every object route has a row in the matrix', async (t) => {
  const keys = objectRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
  t.same(keys.filter((k) => !(k in MATRIX)), [], 'no route without expectations');
  t.same(Object.keys(MATRIX).filter((k) => !keys.includes(k)), [], 'no expectations without a route');
});

t.test('authorization matrix', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const ok = async <T>(res: Promise<{ status: number; body: T }>, status: number, what: string): Promise<T> => {
    const r = await res;
    if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  /** Users that no write of the matrix can change (objects are fresh; a deletable user is fresh too). */
  const [author, reader, outsider] = await Promise.all([makeUser(api), makeUser(api), makeUser(api)]);

  const worlds: Record<Kind, () => Promise<World>> = {
    async user() {
      const [owner, participant] = await Promise.all([makeUser(api), makeUser(api)]);
      await ok(participant.api.post(`/api/users/${owner.id}/follow/`), 200, 'follow');
      return { id: owner.id, owner, participant, stranger: outsider, snapshot: async () => [await owner.api.get(`/api/users/${owner.id}/`), await owner.api.get(`/api/users/${owner.id}/followers/`)].map((r) => r.body) };
    },
    async post() {
      const post = await ok(author.api.post('/api/posts/', { content: 'original' }), 201, 'post');
      await ok(reader.api.post('/api/comments/', { post: post.id, content: 'a comment' }), 201, 'comment');
      return { id: post.id, owner: author, participant: reader, stranger: outsider, snapshot: async () => (await author.api.get(`/api/posts/${post.id}/`)).body };
    },
    async comment() {
      const post = await ok(reader.api.post('/api/posts/', { content: 'a post' }), 201, 'post');
      const comment = await ok(author.api.post('/api/comments/', { post: post.id, content: 'original' }), 201, 'comment');
      return { id: comment.id, owner: author, participant: reader, stranger: outsider, snapshot: async () => (await author.api.get(`/api/comments/${comment.id}/`)).body };
    },
    async group() {
      const group = await ok(author.api.post('/api/groups/', { name: `g${crypto.randomUUID().slice(0, 8)}`, description: 'original' }), 201, 'group');
      await ok(reader.api.post(`/api/groups/${group.id}/join/`), 200, 'join');
      return {
        id: group.id,
        owner: author,
        participant: reader,
        stranger: outsider,
        snapshot: async () => [await author.api.get(`/api/groups/${group.id}/`), await author.api.get(`/api/groups/${group.id}/members/`)].map((r) => r.body),
      };
    },
    async message() {
      const message = await ok(author.api.post('/api/messages/', { receiver: reader.id, content: 'original' }), 201, 'message');
      return { id: message.id, owner: author, participant: reader, stranger: outsider, snapshot: async () => (await author.api.get(`/api/messages/${message.id}/`)).body };
    },
    async call() {
      // Fresh pair: a ringing call keeps both sides busy.
      const [owner, participant] = await Promise.all([makeUser(api), makeUser(api)]);
      const call = await ok(owner.api.post('/api/calls/', { receiver: participant.id }), 201, 'call');
      return { id: call.id, owner, participant, stranger: outsider, snapshot: async () => (await owner.api.get(`/api/calls/${call.id}/`)).body };
    },
  };

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
