import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import { form, pngBytes } from './helpers/images.js';
import type { DomainEvents } from '../src/events/types.js';

t.test('groups', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const owner = await makeUser(api);
  const other = await makeUser(api);
  const third = await makeUser(api);
  const events: { name: string; payload: unknown }[] = [];
  for (const name of ['group.member_joined', 'group.member_left', 'group.deleted'] as const) {
    // Without `seqs` (the recipients' log positions: test/realtime-resume.test.ts checks those).
    const off = server.bus.subscribe(name, ({ seqs: _seqs, ...payload }: DomainEvents[typeof name]) => events.push({ name, payload }));
    t.teardown(off);
  }

  const create = await owner.api.post('/api/groups/', { name: 'Web Developers', description: 'A group for web developers' });
  const groupId: number = create.body.id;

  t.test('create: the creator is an admin member', async (t) => {
    t.equal(create.status, 201);
    t.same(Object.keys(create.body).sort(), ['created_at', 'creator', 'creator_username', 'description', 'id', 'image', 'is_admin', 'is_member', 'members_count', 'name', 'updated_at']);
    t.match(create.body, { name: 'Web Developers', description: 'A group for web developers', image: null, creator: owner.id, creator_username: owner.username, members_count: 1, is_member: true, is_admin: true });
    t.match(create.body.created_at, /Z$/);
    const noDescription = await owner.api.post('/api/groups', { name: 'Terse' });
    t.equal(noDescription.status, 201);
    t.equal(noDescription.body.description, '');
  });

  t.test('create validation and auth', async (t) => {
    t.same((await owner.api.post('/api/groups/', { description: 'x' })).body, { name: ['This field is required.'] });
    t.same((await owner.api.post('/api/groups/', { name: '   ' })).body, { name: ['This field may not be blank.'] });
    const long = await owner.api.post('/api/groups/', { name: 'x'.repeat(101) });
    t.equal(long.status, 400);
    t.ok(long.body.name);
    t.equal((await api.post('/api/groups/', { name: 'anon' })).status, 401);
    t.equal((await api.get('/api/groups/')).status, 401);
  });

  t.test('join, flags from two viewpoints, join twice', async (t) => {
    const before = await other.api.get(`/api/groups/${groupId}/`);
    t.match(before.body, { members_count: 1, is_member: false, is_admin: false });
    events.length = 0;
    const join = await other.api.post(`/api/groups/${groupId}/join/`);
    t.equal(join.status, 200);
    t.same(join.body, { message: 'Joined group successfully' });
    t.same(events, [{ name: 'group.member_joined', payload: { groupId, userId: other.id, username: other.username } }]);
    t.match((await other.api.get(`/api/groups/${groupId}/`)).body, { members_count: 2, is_member: true, is_admin: false });
    t.match((await owner.api.get(`/api/groups/${groupId}/`)).body, { members_count: 2, is_member: true, is_admin: true });
    const again = await other.api.post(`/api/groups/${groupId}/join/`);
    t.equal(again.status, 400);
    t.same(again.body, { non_field_errors: ['You are already a member of this group.'] });
    t.equal((await other.api.post('/api/groups/999999/join/')).status, 404);
  });

  t.test('lists: all groups, my groups, members', async (t) => {
    const all = await third.api.get('/api/groups/');
    t.equal(all.status, 200);
    t.ok(all.body.some((g: { id: number }) => g.id === groupId));
    t.ok(all.body[0].id > all.body[all.body.length - 1].id, 'newest first');
    t.same((await third.api.get('/api/groups/my_groups/')).body, []);
    const mine = await other.api.get('/api/groups/my_groups/');
    t.same(mine.body.map((g: { id: number }) => g.id), [groupId]);
    t.equal((await owner.api.get('/api/groups/my_groups/')).body.length, 2);

    await third.api.post(`/api/users/${other.id}/follow/`);
    const members = await third.api.get(`/api/groups/${groupId}/members/`);
    t.equal(members.status, 200);
    const byId = new Map(members.body.map((m: { id: number }) => [m.id, m]));
    t.match(byId.get(owner.id), { username: owner.username, role: 'admin', is_online: false, full_name: String, email: null });
    t.match(byId.get(other.id), { role: 'member', followers_count: 1, is_following: true });
    const paged = await third.api.get(`/api/groups/${groupId}/members/?limit=1`);
    t.equal(paged.body.length, 1);
    t.match(paged.headers.get('link'), /rel="next"/);
    const next = await third.api.get(`/api/groups/${groupId}/members/?limit=1&before=${paged.body[0].id}`);
    t.equal(next.body.length, 1);
    t.not(next.body[0].id, paged.body[0].id);
    t.equal((await third.api.get('/api/groups/999999/members/')).status, 404);
    t.equal((await third.api.get('/api/groups/999999/')).status, 404);
    t.equal((await third.api.get('/api/groups/abc/')).status, 404);
    t.equal((await third.api.get('/api/groups/?limit=0')).status, 400);
  });

  t.test('update: creator/admins only', async (t) => {
    const denied = await other.api.patch(`/api/groups/${groupId}/`, { name: 'Hijacked' });
    t.equal(denied.status, 403);
    t.same(denied.body, { detail: 'You do not have permission to perform this action.' });
    t.equal((await third.api.put(`/api/groups/${groupId}/`, { name: 'Hijacked' })).status, 403);
    const patched = await owner.api.patch(`/api/groups/${groupId}/`, { description: 'Frontend and backend' });
    t.equal(patched.status, 200);
    t.match(patched.body, { name: 'Web Developers', description: 'Frontend and backend', is_admin: true, members_count: 2 });
    const put = await owner.api.put(`/api/groups/${groupId}/`, { name: 'Web Devs' });
    t.equal(put.status, 200);
    t.equal(put.body.name, 'Web Devs');
    t.same((await owner.api.put(`/api/groups/${groupId}/`, { description: 'no name' })).body, { name: ['This field is required.'] });
    t.equal((await owner.api.patch(`/api/groups/${groupId}/`, { name: '' })).status, 400);
    t.equal((await owner.api.patch('/api/groups/999999/', { name: 'x' })).status, 404);
    t.equal((await api.patch(`/api/groups/${groupId}/`, { name: 'x' })).status, 401);
    t.equal((await other.api.get(`/api/groups/${groupId}/`)).body.name, 'Web Devs');
  });

  t.test('leave: not a member, creator, member', async (t) => {
    const notMember = await third.api.post(`/api/groups/${groupId}/leave/`);
    t.equal(notMember.status, 400);
    t.same(notMember.body, { non_field_errors: ['You are not a member of this group.'] });
    const creator = await owner.api.post(`/api/groups/${groupId}/leave/`);
    t.equal(creator.status, 400);
    t.same(creator.body, { non_field_errors: ['The group creator cannot leave the group.'] });
    events.length = 0;
    const left = await other.api.post(`/api/groups/${groupId}/leave/`);
    t.equal(left.status, 200);
    t.same(left.body, { message: 'Left group successfully' });
    t.same(events, [{ name: 'group.member_left', payload: { groupId, userId: other.id, username: other.username } }]);
    t.match((await other.api.get(`/api/groups/${groupId}/`)).body, { members_count: 1, is_member: false });
    t.equal((await other.api.post('/api/groups/999999/leave/')).status, 404);
  });

  t.test('simultaneous joins and leaves: exactly one of each counts, and its event reaches the members', async (t) => {
    const group = (await owner.api.post('/api/groups/', { name: 'Racing' })).body.id;
    const heard: DomainEvents['group.member_joined' | 'group.member_left'][] = [];
    for (const name of ['group.member_joined', 'group.member_left'] as const) t.teardown(server.bus.subscribe(name, (e) => e.groupId === group && heard.push(e)));
    const joins = await Promise.all([1, 2, 3].map(() => third.api.post(`/api/groups/${group}/join/`)));
    t.same(joins.map((r) => r.status).sort(), [200, 400, 400]);
    t.match((await owner.api.get(`/api/groups/${group}/`)).body, { members_count: 2 });
    t.same(heard.length, 1);
    t.same(Object.keys(heard[0].seqs).map(Number).sort(), [owner.id, third.id].sort(), 'joined: every member, the new one too');
    const leaves = await Promise.all([1, 2, 3].map(() => third.api.post(`/api/groups/${group}/leave/`)));
    t.same(leaves.map((r) => r.status).sort(), [200, 400, 400]);
    t.match((await owner.api.get(`/api/groups/${group}/`)).body, { members_count: 1, is_member: true });
    t.same(heard.length, 2);
    t.same(Object.keys(heard[1].seqs).map(Number).sort(), [owner.id, third.id].sort(), 'left: the members and the one who left');
  });

  t.test('delete: creator/admins only; 204', async (t) => {
    const doomed = (await owner.api.post('/api/groups/', { name: 'Doomed' })).body.id;
    await other.api.post(`/api/groups/${doomed}/join/`);
    t.equal((await other.api.delete(`/api/groups/${doomed}/`)).status, 403);
    t.equal((await api.delete(`/api/groups/${doomed}/`)).status, 401);
    events.length = 0;
    let deleted: DomainEvents['group.deleted'] | undefined;
    t.teardown(server.bus.subscribe('group.deleted', (e) => (deleted = e)));
    const del = await owner.api.delete(`/api/groups/${doomed}/`);
    t.equal(del.status, 204);
    t.equal(del.body, null);
    t.same(events, [{ name: 'group.deleted', payload: { groupId: doomed } }]);
    t.same(Object.keys(deleted?.seqs ?? {}).map(Number).sort(), [owner.id, other.id].sort(), 'every member hears it');
    t.equal((await owner.api.get(`/api/groups/${doomed}/`)).status, 404);
    t.equal((await owner.api.delete(`/api/groups/${doomed}/`)).status, 404);
    t.notOk((await other.api.get('/api/groups/my_groups/')).body.some((g: { id: number }) => g.id === doomed));
  });

  t.test('image: upload on create, replace on update, removed on delete', async (t) => {
    const png = await pngBytes();
    const res = await owner.api.post('/api/groups/', form({ name: 'Pictured', description: 'with image' }, { field: 'image', bytes: png, name: 'g.png', type: 'image/png' }));
    t.equal(res.status, 201);
    t.match(res.body.image, new RegExp(`^${server.url}/media/groups/[0-9a-f]{32}\\.png$`));
    const file = (url: string) => path.join(server.dataDir, 'media', new URL(url).pathname.slice('/media/'.length));
    const first = file(res.body.image);
    t.ok(fs.existsSync(first));
    const served = await fetch(res.body.image);
    t.equal(served.status, 200);
    t.equal(served.headers.get('content-type'), 'image/png');

    const updated = await owner.api.patch(`/api/groups/${res.body.id}/`, form({ name: 'Repictured' }, { field: 'image', bytes: png, name: 'h.png', type: 'image/png' }));
    t.equal(updated.status, 200);
    t.equal(updated.body.name, 'Repictured');
    t.not(updated.body.image, res.body.image);
    t.notOk(fs.existsSync(first), 'the replaced image is removed');
    const second = file(updated.body.image);
    t.ok(fs.existsSync(second));

    const bad = await owner.api.post('/api/groups/', form({ name: 'Broken' }, { field: 'image', bytes: Buffer.from('not an image'), name: 'x.png', type: 'image/png' }));
    t.equal(bad.status, 415);
    t.notOk((await owner.api.get('/api/groups/')).body.some((g: { name: string }) => g.name === 'Broken'), 'nothing written');

    t.equal((await owner.api.delete(`/api/groups/${res.body.id}/`)).status, 204);
    t.notOk(fs.existsSync(second), 'the image is removed with the group');
  });
});
