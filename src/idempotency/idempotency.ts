import { createHash } from 'node:crypto'

import type { Kysely } from 'kysely'

import type { Database, Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import { AppError } from '../lib/errors.ts'

/**
 * How long a key is remembered: two days, as the API promises at least 24 hours. The retention
 * chore (src/retention/) forgets older keys; RETENTION_DAYS, always longer, does not apply to them.
 */
export const IDEMPOTENCY_KEY_HOURS = 48

/** A running key older than this is taken to belong to a crashed request and may be retried. */
const ABANDONED_MS = 5 * 60 * 1000

export interface IdempotentResult<T> {
  status: number
  body: T
}

/** The request as the key promises it: method, path and body, with the body's keys sorted. */
export function requestHash(method: string, path: string, body: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([k, x]) => [k, canonical(x)]),
          )
        : v
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(canonical(body))}`)
    .digest('hex')
}

/**
 * Runs `work` at most once per (account, caller, key). The key is first recorded as running in a
 * statement of its own, so that a concurrent request with the same key sees it at once and gets
 * 409 instead of waiting; `work` then runs in a transaction that also stores its answer, so the
 * result and the key's "done" commit together. A failure forgets the key, so a retry may run.
 */
export async function withIdempotency<T>(
  db: Kysely<Database>,
  k: { accountId: string; actorId: string; key: string; hash: string },
  work: (trx: Db) => Promise<IdempotentResult<T>>,
): Promise<IdempotentResult<T>> {
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
  if (!claimed) {
    const existing = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('account_id', '=', k.accountId)
      .where('actor_id', '=', k.actorId)
      .where('key', '=', k.key)
      .executeTakeFirst()
    if (!existing) return withIdempotency(db, k, work) // forgotten in between (the first failed): try again
    if (existing.request_hash !== k.hash) {
      throw new AppError('idempotency-key-reused', {
        detail: 'This Idempotency-Key was used with a different request; use a new key.',
      })
    }
    if (existing.status === 'done') return { status: existing.response_status!, body: existing.response_body as T }
    // A running key older than ABANDONED_MS belongs to a crashed request: take it over. The age is
    // checked in the UPDATE itself, so of two requests taking over at once only one succeeds.
    const taken =
      (
        await db
          .updateTable('idempotency_keys')
          .set({ created_at: new Date() })
          .where('account_id', '=', k.accountId)
          .where('actor_id', '=', k.actorId)
          .where('key', '=', k.key)
          .where('status', '=', 'running')
          .where('created_at', '<', new Date(Date.now() - ABANDONED_MS))
          .executeTakeFirst()
      ).numUpdatedRows > 0n
    if (!taken) {
      throw new AppError('idempotency-key-in-use', {
        detail: 'A request with this Idempotency-Key is still running; retry after it finishes.',
        headers: { 'retry-after': '1' },
      })
    }
  }
  try {
    return await transaction(db, async (trx) => {
      const result = await work(trx)
      await trx
        .updateTable('idempotency_keys')
        .set({ status: 'done', response_status: result.status, response_body: JSON.stringify(result.body) })
        .where('account_id', '=', k.accountId)
        .where('actor_id', '=', k.actorId)
        .where('key', '=', k.key)
        .execute()
      return result
    })
  } catch (e) {
    await db
      .deleteFrom('idempotency_keys')
      .where('account_id', '=', k.accountId)
      .where('actor_id', '=', k.actorId)
      .where('key', '=', k.key)
      .where('status', '=', 'running')
      .execute()
    throw e
  }
}
