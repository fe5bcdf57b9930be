/**
 * How a message is stored, direct or to a group: one INSERT … SELECT whose SELECT is the rule
 * (the receiver exists, the sender is a member), decided in the writing statement itself, with no
 * read before it; and once per client id, which ON CONFLICT settles even for two simultaneous
 * retries.
 */
import type { SqlValue, WriteTx } from '../db/sql.js';

export type Inserted<R> = { row: R } | { existingId: number } | null;

/**
 * Runs `insert` (an `INSERT INTO table … SELECT … ON CONFLICT (sender_id, client_id) [WHERE the
 * index's condition] DO NOTHING RETURNING …`) and says what happened: the new row; the id of the
 * message this sender already sent with `clientId`; or null when the SELECT found nothing (the
 * rule refused).
 */
export async function insertMessage<R>(
  tx: WriteTx,
  table: 'direct_messages' | 'group_messages',
  insert: string,
  params: SqlValue[],
  sender: { id: number; clientId: string | null },
): Promise<Inserted<R>> {
  const row = await tx.get<R>(insert, params);
  if (row) return { row };
  if (sender.clientId === null) return null;
  const first = await tx.get<{ id: number }>(`SELECT id FROM ${table} WHERE sender_id = ? AND client_id = ?`, [sender.id, sender.clientId]);
  return first ? { existingId: Number(first.id) } : null;
}
