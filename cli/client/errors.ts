/**
 * The one translation of API errors into what a terminal user reads, used by every command
 * (and the TUI) through JvaiClient. An error names the thing the request was about —
 * `no post 999999`, `no user named "nosuch"`, `you are not a member of group 7: jvai group join 7`
 * — where the API says `Not found.` or names a request field. Everything else keeps the API's
 * own text, flattened to one line.
 */

import { flattenFieldErrors } from '../../src/errors.js';

/** What was asked, so a message can name it. */
export interface FailedRequest {
  method: string;
  url: URL;
  /** The JSON body sent, if any. */
  body?: unknown;
}

/** Flattens a DRF error body into one line: `content: This field is required.; image: …`. */
export function describeErrorBody(status: number, statusText: string, body: unknown): string {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const record = body as Record<string, unknown>;
    if (typeof record.detail === 'string') return record.detail;
    if (Object.keys(record).length) return flattenFieldErrors(record, '; ');
  }
  if (Array.isArray(body) && body.length) return flattenFieldErrors({ non_field_errors: body }, '; ');
  return `HTTP ${status}${statusText ? ` ${statusText}` : ''}`;
}

/** A thing of a kind with an id, as a user reads it: `post 5`, `user with id 5`. */
function thing(kind: string, id: string | number): string {
  return kind === 'user' ? `user with id ${id}` : `${kind} ${id}`;
}

/** API collections (the first path segment after /api/) and request fields, by the kind of thing they hold. */
const KINDS: Record<string, string> = {
  posts: 'post',
  comments: 'comment',
  groups: 'group',
  messages: 'message',
  'group-messages': 'group message',
  calls: 'call',
  users: 'user',
  post: 'post',
  group: 'group',
  receiver: 'user',
};

const notMember = (group: unknown) => `you are not a member of group ${group}: jvai group join ${group}`;

/** The one-line message for a failed request. */
export function describeApiError(request: FailedRequest, status: number, statusText: string, body: unknown): string {
  const path = request.url.pathname.replace(/\/+$/, '');
  const query = request.url.searchParams;
  const sent = (request.body && typeof request.body === 'object' ? request.body : {}) as Record<string, unknown>;
  const [, collection, id] = /^\/api\/([a-z-]+)\/(\d+)(?:\/|$)/.exec(path) ?? [];

  if (status === 404) {
    if (path === '/api/messages/with_user') return query.has('username') ? `no user named "${query.get('username')}"` : `no ${thing('user', query.get('user_id') ?? '?')}`;
    if (collection && KINDS[collection]) return `no ${thing(KINDS[collection], id)}`;
    if (path === '/api/group-messages/group_messages' && query.has('group_id')) return `no group ${query.get('group_id')}`;
  }

  if (status === 403) {
    if (path === '/api/group-messages' && sent.group !== undefined) return notMember(sent.group);
    if (path === '/api/group-messages/group_messages' && query.has('group_id')) return notMember(query.get('group_id'));
    if (collection && id && (collection === 'posts' || collection === 'comments') && (request.method === 'PATCH' || request.method === 'DELETE')) {
      return `${thing(KINDS[collection], id)} is not yours: only its author can ${request.method === 'PATCH' ? 'edit' : 'delete'} it`;
    }
    if (collection === 'messages' && path.endsWith('/mark_as_read')) return `message ${id} was not sent to you: only its receiver can mark it read`;
  }

  if (status === 400 && body && typeof body === 'object' && !Array.isArray(body)) {
    // A field naming something that does not exist: say which thing.
    for (const [field, messages] of Object.entries(body as Record<string, unknown>)) {
      const text = Array.isArray(messages) ? messages.join(' ') : String(messages);
      if (field === 'receiver_username' && text === 'User not found.') return `no user named "${sent.receiver_username}"`;
      const pk = /^Invalid pk "(.+)" - object does not exist\.$/.exec(text);
      if (pk && KINDS[field]) return `no ${thing(KINDS[field], pk[1])}`;
    }
  }

  return describeErrorBody(status, statusText, body);
}
