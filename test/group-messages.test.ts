import t from 'tap';
import { startTestServer } from './helpers/server.js';
import { Api, makeUser } from './helpers/api.js';
import type { GroupMessagePayload } from '../src/events/types.js';

t.test('group messages', async (t) => {
  const server = await startTestServer(t);
  const api = new Api(server.url);
  const owner = await makeUser(api);
  const member = await makeUser(api);
  const outsider = await makeUser(api);
  const events: GroupMessagePayload[] = [];
  t.teardown(server.bus.subscribe('group_message.created', ({ message }) => events.push(message)));

  const groupId: number = (await owner.api.post('/api/groups/', { name: 'Chat' })).body.id;
  const otherGroupId: number = (await owner.api.post('/api/groups/', { name: 'Other chat' })).body.id;
  await member.api.post(`/api/groups/${groupId}/join/`);

  t.test('members send; the message is announced', async (t) => {
    events.length = 0;
    const res = await member.api.post('/api/group-messages/', { group: groupId, content: 'Hello everyone!' });
    t.equal(res.status, 201);
    t.same(Object.keys(res.body).sort(), ['content', 'created_at', 'group', 'id', 'sender', 'sender_username']);
    t.match(res.body, { group: groupId, sender: member.id, sender_username: member.username, content: 'Hello everyone!', created_at: /Z$/ });
    t.same(events, [res.body]);
    t.equal((await owner.api.post('/api/group-messages', { group: String(groupId), content: 'Welcome' })).status, 201, 'form-style ids work');
  });

  t.test('non-members and bad input are refused, nothing written', async (t) => {
    events.length = 0;
    const denied = await outsider.api.post('/api/group-messages/', { group: groupId, content: 'let me in' });
    t.equal(denied.status, 403);
    t.same(denied.body, { detail: 'You do not have permission to perform this action.' });
    t.same((await owner.api.post('/api/group-messages/', { group: 999999, content: 'x' })).body, { group: ['Invalid pk "999999" - object does not exist.'] });
    t.same((await owner.api.post('/api/group-messages/', { content: 'x' })).body, { group: ['This field is required.'] });
    t.same((await owner.api.post('/api/group-messages/', { group: groupId, content: '' })).body, { content: ['This field may not be blank.'] });
    t.equal((await owner.api.post('/api/group-messages/', { group: groupId, content: 'x'.repeat(5001) })).status, 400);
    t.equal((await api.post('/api/group-messages/', { group: groupId, content: 'anon' })).status, 401);
    t.same(events, []);
    t.notOk((await owner.api.get(`/api/group-messages/group_messages/?group_id=${groupId}`)).body.some((m: GroupMessagePayload) => m.content === 'let me in'));
  });

  t.test('client_id makes a retried send idempotent', async (t) => {
    events.length = 0;
    const body = { group: groupId, content: 'only once', client_id: 'g-1' };
    const first = await member.api.post('/api/group-messages/', body);
    const retry = await member.api.post('/api/group-messages/', body);
    t.equal(retry.status, 201);
    t.equal(retry.body.id, first.body.id);
    t.equal(events.length, 1, 'announced once');
    const racing = await Promise.all([1, 2, 3].map(() => owner.api.post('/api/group-messages/', { group: groupId, content: 'race', client_id: 'g-2' })));
    t.equal(new Set(racing.map((r) => r.body.id)).size, 1);
    const list = (await owner.api.get(`/api/group-messages/group_messages/?group_id=${groupId}`)).body as GroupMessagePayload[];
    t.equal(list.filter((m) => m.content === 'only once').length, 1);
    t.equal(list.filter((m) => m.content === 'race').length, 1);
  });

  t.test('a group’s messages: members only, newest first, paged', async (t) => {
    const res = await member.api.get(`/api/group-messages/group_messages/?group_id=${groupId}`);
    t.equal(res.status, 200);
    t.same(res.body.map((m: GroupMessagePayload) => m.content), ['race', 'only once', 'Welcome', 'Hello everyone!']);
    const page = await member.api.get(`/api/group-messages/group_messages/?group_id=${groupId}&limit=3`);
    t.equal(page.body.length, 3);
    t.match(page.headers.get('link'), /rel="next"/);
    const rest = await member.api.get(`/api/group-messages/group_messages/?group_id=${groupId}&limit=3&before=${page.body[2].id}`);
    t.same(rest.body.map((m: GroupMessagePayload) => m.content), ['Hello everyone!']);
    t.equal((await outsider.api.get(`/api/group-messages/group_messages/?group_id=${groupId}`)).status, 403);
    t.equal((await owner.api.get('/api/group-messages/group_messages/?group_id=999999')).status, 404);
    t.same((await owner.api.get('/api/group-messages/group_messages/')).body, { group_id: ['This field is required.'] });
    t.equal((await owner.api.get('/api/group-messages/group_messages/?group_id=x')).status, 400);
    t.equal((await api.get(`/api/group-messages/group_messages/?group_id=${groupId}`)).status, 401);
  });

  t.test('messages of all your groups', async (t) => {
    await owner.api.post('/api/group-messages/', { group: otherGroupId, content: 'in the other group' });
    const mine = await owner.api.get('/api/group-messages/');
    t.equal(mine.status, 200);
    t.equal(mine.body[0].content, 'in the other group');
    t.same(new Set(mine.body.map((m: GroupMessagePayload) => m.group)), new Set([groupId, otherGroupId]));
    const memberView = await member.api.get('/api/group-messages/');
    t.notOk(memberView.body.some((m: GroupMessagePayload) => m.group === otherGroupId));
    t.same((await outsider.api.get('/api/group-messages/')).body, []);
  });

  t.test('leaving ends access; deleting the group removes its messages', async (t) => {
    await member.api.post(`/api/groups/${groupId}/leave/`);
    t.equal((await member.api.post('/api/group-messages/', { group: groupId, content: 'still here?' })).status, 403);
    t.equal((await member.api.get(`/api/group-messages/group_messages/?group_id=${groupId}`)).status, 403);
    t.same((await member.api.get('/api/group-messages/')).body, []);
    t.equal((await owner.api.delete(`/api/groups/${groupId}/`)).status, 204);
    t.notOk((await owner.api.get('/api/group-messages/')).body.some((m: GroupMessagePayload) => m.group === groupId));
  });
});
