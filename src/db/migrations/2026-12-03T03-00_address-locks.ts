import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. One row per (account, address) that has had a soft bounce: taking a report of
 * it updates the row first, so two reports of one address count one after the other at every
 * isolation level (an advisory lock did at READ COMMITTED only: at REPEATABLE READ the second
 * writer's snapshot, older than the first's commit, still missed its report). The row holds only
 * how many reports took it; the counting itself reads mail_events.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table soft_bounce_addresses (
      account_id text not null references accounts (id) on delete cascade,
      email text not null,
      reports bigint not null default 1,
      primary key (account_id, email)
    )`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('soft_bounce_addresses').execute()
}
