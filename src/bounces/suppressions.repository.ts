import type { Db } from '../db/database.ts'

/** The account's suppression list, newest first. */
export const listSuppressions = (db: Db, accountId: string) =>
  db
    .selectFrom('suppressions')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('at', 'desc')
    .orderBy('email')
    .execute()

/** Takes the address off the list; answers the row it removed, if there was one. */
export const deleteSuppression = (db: Db, accountId: string, email: string) =>
  db
    .deleteFrom('suppressions')
    .where('account_id', '=', accountId)
    .where('email', '=', email.toLowerCase())
    .returningAll()
    .executeTakeFirst()
