import { sql } from 'kysely'

import type { Db } from './database.ts'

/** A statement that needs nothing but a connection: answers when the database can be reached. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db)
}
