/**
 * What each route answers, as zod schemas matching the presenters field for field. Objects are
 * strict, so a field added or dropped on the wire fails test/openapi.test.ts until it is
 * declared here. Every schema a route declares is named in `responseSchemas`: the OpenAPI
 * document lists them as components and refers to them by name.
 */
import { z } from 'zod';
import { CALL_STATUSES, CALL_TYPES } from '../models/call.js';
import { iceServer } from '../config.js';

/** Component name, and the media type when the body is not JSON. */
export const responseSchemas = z.registry<{ id: string; mediaType?: string }>();

const named = <T extends z.ZodType>(id: string, schema: T, mediaType?: string): T => {
  responseSchemas.add(schema, { id, mediaType });
  return schema;
};

const id = z.int().positive();
const count = z.int().nonnegative();
/** ISO-8601 UTC with `Z`, as the presenters' `iso()` writes it. */
const timestamp = z.iso.datetime();
/** An absolute URL below /media/, or null when there is no file. */
const mediaUrl = z.url({ protocol: /^https?$/ }).nullable();

export const nestedUser = named('NestedUser', z.strictObject({ id, username: z.string(), full_name: z.string() }));

export const author = named('Author', nestedUser.extend({ profile_picture: mediaUrl }));

const userFields = {
  id,
  username: z.string(),
  /** Only the user themselves sees it. */
  email: z.email().nullable(),
  first_name: z.string(),
  last_name: z.string(),
  full_name: z.string(),
  bio: z.string().nullable(),
  profile_picture: mediaUrl,
  is_online: z.boolean(),
  last_seen: timestamp.nullable(),
  followers_count: count,
  following_count: count,
  is_following: z.boolean(),
};

export const user = named('User', z.strictObject(userFields));
export const users = named('UserList', z.array(user));

export const member = named('GroupMember', z.strictObject({ ...userFields, role: z.enum(['admin', 'member']) }));
export const members = named('GroupMemberList', z.array(member));

/** What posts and comments both show: their author, text, times, likes and the viewer's like. */
const authoredFields = {
  id,
  author: id,
  author_username: z.string(),
  author_details: author,
  content: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
  likes_count: count,
  user_liked: z.boolean(),
};

export const comment = named('Comment', z.strictObject({ ...authoredFields, post: id }));
export const comments = named('CommentList', z.array(comment));

export const post = named(
  'Post',
  z.strictObject({
    ...authoredFields,
    image: mediaUrl,
    comments_count: count,
    /** The newest 50, oldest first. */
    comments: z.array(comment),
  }),
);
export const posts = named('PostList', z.array(post));

export const group = named(
  'Group',
  z.strictObject({
    id,
    name: z.string(),
    description: z.string(),
    image: mediaUrl,
    creator: id,
    creator_username: z.string(),
    members_count: count,
    is_member: z.boolean(),
    is_admin: z.boolean(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);
export const groups = named('GroupList', z.array(group));

export const directMessage = named(
  'DirectMessage',
  z.strictObject({
    id,
    sender: id,
    sender_username: z.string(),
    receiver: id,
    receiver_username: z.string(),
    content: z.string(),
    is_read: z.boolean(),
    read_at: timestamp.nullable(),
    created_at: timestamp,
  }),
);
export const directMessages = named('DirectMessageList', z.array(directMessage));

export const conversations = named(
  'ConversationList',
  z.array(
    z.strictObject({
      user: nestedUser.extend({ profile_picture: mediaUrl, is_online: z.boolean(), last_seen: timestamp.nullable() }),
      last_message: directMessage,
      unread_count: count,
    }),
  ),
);

export const groupMessage = named(
  'GroupMessage',
  z.strictObject({ id, group: id, sender: id, sender_username: z.string(), content: z.string(), created_at: timestamp }),
);
export const groupMessages = named('GroupMessageList', z.array(groupMessage));

export const call = named(
  'Call',
  z.strictObject({
    id,
    caller: nestedUser,
    callee: nestedUser,
    call_type: z.enum(CALL_TYPES),
    status: z.enum(CALL_STATUSES),
    started_at: timestamp,
    answered_at: timestamp.nullable(),
    ended_at: timestamp.nullable(),
    /** Whole seconds from started_at to ended_at; null while the call is not over. */
    duration: count.nullable(),
  }),
);
export const calls = named('CallList', z.array(call));

export const iceServers = named('IceServers', z.strictObject({ ice_servers: z.array(z.strictObject(iceServer.shape)) }));

const sequenced = { seq: id };
const membership = z.strictObject({ group_id: id, user_id: id, username: z.string(), ...sequenced });
const callEvent = z.strictObject({ call, by_user_id: id.nullable(), ...sequenced });
/** One logged event as the socket.io channel sends it (src/realtime/hub.ts inboxEvents). */
const loggedEvent = <E extends string, D extends z.ZodType>(event: E, data: D) => z.strictObject({ seq: id, event: z.literal(event), data, created_at: timestamp });

export const events = named(
  'EventLog',
  z.strictObject({
    latest_seq: count,
    /** Older events were pruned: re-fetch over REST. */
    resync: z.boolean(),
    events: z.array(
      z.discriminatedUnion('event', [
        loggedEvent('dm:new', directMessage.extend(sequenced)),
        loggedEvent('dm:read', directMessage.extend(sequenced)),
        loggedEvent('group:message', groupMessage.extend(sequenced)),
        loggedEvent('group:joined', membership),
        loggedEvent('group:left', membership),
        loggedEvent('group:deleted', z.strictObject({ group_id: id, ...sequenced })),
        loggedEvent('call:started', callEvent),
        loggedEvent('call:accepted', callEvent),
        loggedEvent('call:rejected', callEvent),
        loggedEvent('call:ended', callEvent),
        loggedEvent('call:missed', callEvent),
      ]),
    ),
  }),
);

const tokenFields = { access: z.jwt(), refresh: z.jwt() };
export const tokenPair = named('TokenPair', z.strictObject(tokenFields));
export const session = named('Session', z.strictObject({ user, ...tokenFields }));
export const passwordChanged = named('PasswordChanged', z.strictObject({ message: z.string(), ...tokenFields }));

export const message = named('Message', z.strictObject({ message: z.string() }));
export const likeToggled = named('LikeToggled', z.strictObject({ message: z.string(), liked: z.boolean() }));
export const presence = named('PresenceStatus', z.strictObject({ status: z.enum(['online', 'offline']) }));

/** Only the envelope: the document describes itself. */
export const openApiDocument = named(
  'OpenApiDocument',
  z.strictObject({
    openapi: z.string().regex(/^3\.1\.\d+$/),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    servers: z.array(z.looseObject({ url: z.string() })),
    security: z.array(z.record(z.string(), z.array(z.string()))),
    paths: z.record(z.string(), z.record(z.string(), z.looseObject({ summary: z.string(), responses: z.record(z.string(), z.unknown()) }))),
    components: z.looseObject({ schemas: z.record(z.string(), z.unknown()) }),
  }),
);

export const docsPage = named('DocsPage', z.string().startsWith('<!doctype html>'), 'text/html');
