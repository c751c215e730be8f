import { createHash } from 'node:crypto'

import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import { AppError } from '../lib/errors.ts'
import * as repo from './idempotency.repository.ts'

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
  db: Db,
  k: { accountId: string; actorId: string; key: string; hash: string },
  work: (trx: Db) => Promise<IdempotentResult<T>>,
): Promise<IdempotentResult<T>> {
  if (!(await repo.claimKey(db, k))) {
    const existing = await repo.findKey(db, k)
    if (!existing) return withIdempotency(db, k, work) // forgotten in between (the first failed): try again
    if (existing.request_hash !== k.hash) {
      throw new AppError('idempotency-key-reused', {
        detail: 'This Idempotency-Key was used with a different request; use a new key.',
      })
    }
    if (existing.status === 'done') return { status: existing.response_status!, body: existing.response_body as T }
    // A running key older than ABANDONED_MS belongs to a crashed request: take it over.
    if (!(await repo.takeOverAbandonedKey(db, k, ABANDONED_MS))) {
      throw new AppError('idempotency-key-in-use', {
        detail: 'A request with this Idempotency-Key is still running; retry after it finishes.',
        headers: { 'retry-after': '1' },
      })
    }
  }
  try {
    return await transaction(db, async (trx) => {
      const result = await work(trx)
      await repo.storeAnswer(trx, k, result)
      return result
    })
  } catch (e) {
    await repo.forgetRunningKey(db, k)
    throw e
  }
}
