import { sql } from 'kysely'

import type { Db } from '../db/database.ts'
import type { IdempotencyKeyRow } from './idempotency.table.ts'

/** Which key: one per (account, caller, key), the table's primary key. */
export interface KeyRef {
  accountId: string
  actorId: string
  key: string
}

/** Records the key as running for the request whose hash is `k.hash`; returns false when the key exists already. */
export async function claimKey(db: Db, k: KeyRef & { hash: string }): Promise<boolean> {
  const claimed = await db
    .insertInto('idempotency_keys')
    .values({
      account_id: k.accountId,
      actor_id: k.actorId,
      key: k.key,
      request_hash: k.hash,
      status: 'running',
      response_status: null,
      response_body: null,
    })
    .onConflict((oc) => oc.columns(['account_id', 'actor_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst()
  return claimed !== undefined
}

export const findKey = (db: Db, k: KeyRef): Promise<IdempotencyKeyRow | undefined> =>
  db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('account_id', '=', k.accountId)
    .where('actor_id', '=', k.actorId)
    .where('key', '=', k.key)
    .executeTakeFirst()

/**
 * Takes over a key left running for longer than `abandonedMs`, as of the database's clock (the
 * one that wrote its created_at), and restarts its age; returns whether it did. The age is checked
 * in the UPDATE itself, so of two requests taking over at once only one succeeds.
 */
export async function takeOverAbandonedKey(db: Db, k: KeyRef, abandonedMs: number): Promise<boolean> {
  const res = await db
    .updateTable('idempotency_keys')
    .set({ created_at: sql<Date>`now()` })
    .where('account_id', '=', k.accountId)
    .where('actor_id', '=', k.actorId)
    .where('key', '=', k.key)
    .where('status', '=', 'running')
    .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${abandonedMs / 1000})`)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

/** Stores the answer of the key's request: called in the transaction of the request's work, so both commit together. */
export async function storeAnswer(db: Db, k: KeyRef, answer: { status: number; body: unknown }): Promise<void> {
  await db
    .updateTable('idempotency_keys')
    .set({ status: 'done', response_status: answer.status, response_body: JSON.stringify(answer.body) })
    .where('account_id', '=', k.accountId)
    .where('actor_id', '=', k.actorId)
    .where('key', '=', k.key)
    .execute()
}

/** Forgets a key still running (its request failed), so that a retry may run. */
export async function forgetRunningKey(db: Db, k: KeyRef): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('account_id', '=', k.accountId)
    .where('actor_id', '=', k.actorId)
    .where('key', '=', k.key)
    .where('status', '=', 'running')
    .execute()
}
