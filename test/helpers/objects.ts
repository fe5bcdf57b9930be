/**
 * Objects of every kind an object route takes, each with the users around it (its owner, a
 * participant, a stranger), and the status each role gets from each object route. Shared by
 * the authorization matrix and the OpenAPI response check.
 */
import crypto from 'node:crypto';
import { makeUser, type Api, type TestUser } from './api.js';

export type Role = 'anonymous' | 'stranger' | 'participant' | 'owner';
export const ROLES: Role[] = ['anonymous', 'stranger', 'participant', 'owner'];

/** An object of one kind, created fresh for each call, with the users around it. */
export interface World {
  id: number;
  owner: TestUser;
  participant: TestUser;
  stranger: TestUser;
  /** The object as its owner reads it. */
  snapshot(): Promise<unknown>;
}

export type Kind = 'user' | 'post' | 'comment' | 'group' | 'message' | 'call';

/** Expected status per role, by `METHOD /path`. */
export const MATRIX: Record<string, { kind: Kind; body?: () => object } & Record<Role, number>> = {
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

/** Awaits a response, insisting on its status; returns its body. */
export const ok = async <T>(res: Promise<{ status: number; body: T }>, status: number, what: string): Promise<T> => {
  const r = await res;
  if (r.status !== status) throw new Error(`${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};

/** Builders of a fresh object of each kind, with the users around it. */
export async function objectWorlds(api: Api): Promise<Record<Kind, () => Promise<World>>> {
  /** Users that no write of the matrix can change (objects are fresh; a deletable user is fresh too). */
  const [author, reader, outsider] = await Promise.all([makeUser(api), makeUser(api), makeUser(api)]);

  return {
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
}
