import type { Db } from '../../db/database.ts'

export const insertSession = (
  db: Db,
  row: { account_id: string; id: string; user_id: string; token_hash: string; expires_at: Date },
) => db.insertInto('sessions').values(row).execute()

/** The session and its user, if the session is unexpired and the user still active. */
export const findLiveSession = (db: Db, accountId: string, tokenHash: string, now: Date) =>
  db
    .selectFrom('sessions as s')
    .innerJoin('users as u', (j) => j.onRef('u.account_id', '=', 's.account_id').onRef('u.id', '=', 's.user_id'))
    .select(['s.id', 's.user_id', 's.expires_at', 'u.role'])
    .where('s.account_id', '=', accountId)
    .where('s.token_hash', '=', tokenHash)
    .where('s.expires_at', '>', now)
    .where('u.status', '=', 'active')
    .executeTakeFirst()

export const deleteExpiredSessions = (db: Db, accountId: string, now: Date) =>
  db.deleteFrom('sessions').where('account_id', '=', accountId).where('expires_at', '<=', now).execute()

export const deleteSessionByHash = (db: Db, accountId: string, tokenHash: string) =>
  db.deleteFrom('sessions').where('account_id', '=', accountId).where('token_hash', '=', tokenHash).execute()

/** Ends every session of a user (deactivation signs them out for good). */
export const deleteUserSessions = (db: Db, accountId: string, userId: string) =>
  db.deleteFrom('sessions').where('account_id', '=', accountId).where('user_id', '=', userId).execute()
