import type { Db } from '../db/database.ts'

/** Accounts: the rows of a sheets export. */
export const countAccounts = async (db: Db): Promise<number> =>
  Number(
    (
      await db
        .selectFrom('accounts')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

/** The rows of a users export: one a user, plus one for each account without users. */
export const countUserRows = async (db: Db): Promise<number> => {
  const users = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()
  const bare = await db
    .selectFrom('accounts as a')
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('users as u').select('u.id').whereRef('u.account_id', '=', 'a.id'))),
    )
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()
  return Number(users.n) + Number(bare.n)
}
