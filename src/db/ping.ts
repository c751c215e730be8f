import { type Kysely, sql } from 'kysely'

import type { Database } from './database.ts'

/** A statement that needs nothing but a connection: answers when the database can be reached. */
export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db)
}
