/**
 * The JSON the jvai REST API returns: the response schemas the server declares for its routes
 * (src/http/responses.ts — the same ones the served OpenAPI document and the tests check), so a
 * field added on the server cannot be missed by the client. Types only: no schema code is loaded.
 */
import type { z } from 'zod';
import type * as responses from '../../src/http/responses.js';

type Of<S extends z.ZodType> = z.output<S>;

/** A user inside another object (calls). */
export type NestedUser = Of<typeof responses.nestedUser>;
/** A post's or comment's author: a nested user with the avatar. */
export type Author = Of<typeof responses.author>;
/** Email is shown to its owner only (`null` for everyone else). */
export type User = Of<typeof responses.user>;
/** A group member: the user plus their role in the group. */
export type GroupMember = Of<typeof responses.member>;
export type Comment = Of<typeof responses.comment>;
/** `comments`: the newest 50, oldest first. */
export type Post = Of<typeof responses.post>;
export type Group = Of<typeof responses.group>;
export type DirectMessage = Of<typeof responses.directMessage>;
export type GroupMessage = Of<typeof responses.groupMessage>;
export type Call = Of<typeof responses.call>;
/** `user`: the other participant. */
export type Conversation = Of<typeof responses.conversations>[number];
/** What register and login answer. */
export type AuthResponse = Of<typeof responses.session>;
/** An access + refresh token pair (refresh tokens rotate on every use). */
export type TokenPair = Of<typeof responses.tokenPair>;
export type MessageResponse = Of<typeof responses.message>;
export type LikeResponse = Of<typeof responses.likeToggled>;
