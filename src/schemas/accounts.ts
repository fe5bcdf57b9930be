/**
 * An account's field rules, shared by registration, profile edits and `jvai admin create-user`,
 * so an administrator cannot create what a user could not.
 */
import { z } from 'zod';

const USERNAME = /^[\p{L}\p{N}_.@+-]+$/u;

export const usernameField = z
  .string()
  .trim()
  .min(1)
  .max(150)
  .regex(USERNAME, 'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.');

export const emailField = z.string().trim().max(254).pipe(z.email({ error: 'Enter a valid email address.' }));
