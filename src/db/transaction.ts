import { type IsolationLevel, sql, type Transaction } from 'kysely'

import { type Database, type Db } from './database.ts'
import { PG, pgError } from './pg-errors.ts'

/**
 * How a transaction that lost a race is tried again. At REPEATABLE READ and SERIALIZABLE (the
 * defaults of YugabyteDB and CockroachDB, and a choice some operators make on PostgreSQL) a
 * transaction that waited for a row another one changed ends in 40001; any isolation level can
 * meet a deadlock (40P01). Both mean "nothing was written; the same work again may well pass".
 * Every transaction writes its outbox rows inside itself, so running it again sends nothing twice.
 * A pooler that turned out not to carry named statements (db/prepared-statements.ts) fails the
 * transaction it was found in the same way: the pool sends unnamed statements from then on.
 *
 * Thirty writers on one account's sheet (the concurrency test) settle within a few rounds: once
 * the winners have committed, the rest read the new state and answer 409 or 412 without writing.
 */
const TRANSACTION_RETRY = {
  attempts: 10,
  /** The first wait's upper bound; each retry doubles it, up to `maxDelayMs`. */
  baseDelayMs: 5,
  maxDelayMs: 250,
} as const

const RETRYABLE: ReadonlySet<string> = new Set([
  PG.serializationFailure,
  PG.deadlockDetected,
  PG.invalidStatementName,
  PG.duplicatePreparedStatement,
])

/** A database error that a fresh attempt of the whole transaction can get past. */
export function isRetryable(e: unknown): boolean {
  const code = pgError(e)?.code
  return code !== undefined && RETRYABLE.has(code)
}

export interface TransactionOptions {
  isolation?: IsolationLevel
  readOnly?: boolean
  /** More attempts than the usual, for work that all writers queue for (a move in the account tree). */
  attempts?: number
}

/**
 * Runs `work` in one transaction, and again from the start (bounded, with jittered exponential
 * backoff: "full jitter", so that the losers of one race do not meet again at the same instant)
 * when it fails on a serialization failure or a deadlock. Inside a transaction already, `work`
 * joins it: only the outermost transaction can be retried, since it is the one that rolls back.
 */
export async function transaction<T>(
  db: Db,
  work: (trx: Transaction<Database>) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  if (db.isTransaction) return work(db as Transaction<Database>)
  for (let attempt = 1; ; attempt++) {
    let builder = db.transaction()
    if (opts.isolation) builder = builder.setIsolationLevel(opts.isolation)
    if (opts.readOnly) builder = builder.setAccessMode('read only')
    try {
      return await builder.execute(work)
    } catch (e) {
      if (!isRetryable(e) || attempt >= (opts.attempts ?? TRANSACTION_RETRY.attempts)) throw e
      const bound = Math.min(TRANSACTION_RETRY.maxDelayMs, TRANSACTION_RETRY.baseDelayMs * 2 ** (attempt - 1))
      await new Promise((resolve) => setTimeout(resolve, Math.random() * bound))
    }
  }
}

/**
 * Runs `work` under a savepoint of the transaction `trx`: when it throws, what it wrote is undone
 * and the transaction can go on (a failed statement otherwise aborts the whole of it).
 */
export async function underSavepoint<T>(trx: Db, name: string, work: () => Promise<T>): Promise<T> {
  await sql`savepoint ${sql.id(name)}`.execute(trx)
  let result: T
  try {
    result = await work()
  } catch (e) {
    // a rollback that fails leaves the transaction unusable; the first error says why
    await sql`rollback to savepoint ${sql.id(name)}`.execute(trx).catch(() => {})
    throw e
  }
  await sql`release savepoint ${sql.id(name)}`.execute(trx)
  return result
}
