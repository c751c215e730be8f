import type { Db } from '../db/database.ts'

export const insertVerification = (
  db: Db,
  row: { account_id: string; id: string; email: string; token_hash: string; expires_at: Date },
) => db.insertInto('email_verifications').values(row).execute()

/** An unused, unexpired verification with this token hash. */
export const findLiveVerification = (db: Db, accountId: string, tokenHash: string, now: Date) =>
  db
    .selectFrom('email_verifications')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()

export const markVerificationUsed = (db: Db, accountId: string, id: string, now: Date) =>
  db
    .updateTable('email_verifications')
    .set({ used_at: now })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .execute()

/** Earlier links for an address stop working when a new one is sent. */
export const retireVerifications = (db: Db, accountId: string, email: string, now: Date) =>
  db
    .updateTable('email_verifications')
    .set({ used_at: now })
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .execute()

/** The link most recently sent to an address that is not used up yet (it may have expired). */
export const findLatestLink = (db: Db, accountId: string, email: string) =>
  db
    .selectFrom('email_verifications')
    .select(['expires_at'])
    .where('account_id', '=', accountId)
    .where('used_at', 'is', null)
    .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
    .orderBy('expires_at', 'desc')
    .limit(1)
    .executeTakeFirst()
