import type { Db } from '../db/database.ts'
import type { VerificationMailLimitsTable } from './verification.table.ts'

export type LimitScope = VerificationMailLimitsTable['scope']
export interface LimitKey {
  accountId: string
  scope: LimitScope
  key: string
}

/** The recent send times of a key, its row locked until the transaction ends; undefined when it has none. */
export async function lockLimitRow(db: Db, k: LimitKey): Promise<Date[] | undefined> {
  const row = await db
    .selectFrom('verification_mail_limits')
    .select('sent_at')
    .where('account_id', '=', k.accountId)
    .where('scope', '=', k.scope)
    .where('key', '=', k.key)
    .forUpdate()
    .executeTakeFirst()
  return row ? row.sent_at.map((t) => new Date(t)) : undefined
}

/**
 * A key's row with no send yet, unless it exists. When another transaction is making it, this
 * waits for that one; under repeatable read a row made after this transaction began is a
 * serialization failure instead, and the transaction is run again (db/transaction.ts).
 */
export const insertEmptyLimitRow = (db: Db, k: LimitKey, now: Date) =>
  db
    .insertInto('verification_mail_limits')
    .values({ account_id: k.accountId, scope: k.scope, key: k.key, sent_at: '[]', last_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute()

export const updateLimitRow = (db: Db, k: LimitKey, sentAt: Date[]) =>
  db
    .updateTable('verification_mail_limits')
    .set({ sent_at: JSON.stringify(sentAt), last_at: sentAt.at(-1)! })
    .where('account_id', '=', k.accountId)
    .where('scope', '=', k.scope)
    .where('key', '=', k.key)
    .execute()

/**
 * Deletes the account's rows with no send since `before`: they no longer limit anything. Rows
 * another sender holds are left for a later prune (SKIP LOCKED): waiting for them while this
 * transaction holds the account's row could close a circle of waits, a deadlock.
 */
export const pruneLimitRows = (db: Db, accountId: string, before: Date) =>
  db
    .deleteFrom('verification_mail_limits')
    .where(({ eb, refTuple, selectFrom }) =>
      eb(
        refTuple('account_id', 'scope', 'key'),
        'in',
        selectFrom('verification_mail_limits')
          .select(['account_id', 'scope', 'key'])
          .where('account_id', '=', accountId)
          .where('last_at', '<', before)
          .forUpdate()
          .skipLocked()
          .$asTuple('account_id', 'scope', 'key'),
      ),
    )
    .execute()
