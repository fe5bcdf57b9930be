/**
 * The other side of a message or call, named by id or by username as the API accepts both:
 * only the public columns those payloads need (never the password hash).
 */
import type { Sql } from '../db/sql.js';
import { ValidationError } from '../errors.js';

export interface Party {
  id: number;
  username: string;
  firstName: string;
  lastName: string;
}

export type PartyRef = { id: number; username?: undefined } | { id?: undefined; username: string };

const PARTY = 'SELECT id, username, first_name AS "firstName", last_name AS "lastName" FROM users';

export async function findParty(sql: Sql, ref: PartyRef): Promise<Party | undefined> {
  return ref.id !== undefined
    ? sql.read.get<Party>(`${PARTY} WHERE id = ?`, [ref.id])
    : sql.read.get<Party>(`${PARTY} WHERE username_lower = ?`, [ref.username.toLowerCase()]);
}

/** Nobody is `ref`: a bad value of `field` (400, in DRF's words). */
export function partyNotFound(ref: PartyRef, field: string): ValidationError {
  return ref.id !== undefined ? ValidationError.unknownPk(field, ref.id) : ValidationError.field(field, 'User not found.');
}

/** As findParty, but a missing user is a bad value of `field`. */
export async function resolveParty(sql: Sql, ref: PartyRef, field: string): Promise<Party> {
  const party = await findParty(sql, ref);
  if (!party) throw partyNotFound(ref, field);
  return party;
}
