/**
 * A message's field rules, shared by the REST send routes and the realtime frames and requests,
 * so a message sent over a socket obeys exactly the rules of POST /api/messages/.
 */
import { z } from 'zod';
import { text } from '../validation.js';

/** Longest message body accepted, for direct and group messages alike. */
const MESSAGE_MAX = 5000;

/** A message's content. */
export const messageText = text(MESSAGE_MAX);

/** Optional client-chosen id that makes a retried send idempotent. */
export const clientIdField = z.string().trim().min(1).max(64).optional();
