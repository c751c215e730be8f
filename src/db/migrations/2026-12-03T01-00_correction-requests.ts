import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. "Not the right person?" (issue 15): a recipient of an account mail says, through
 * the link in it, that the mail should not come to them. One request per delivery (the link is
 * single use); it changes no contact, and stays open until an admin dismisses it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table correction_requests (
      account_id text not null references accounts (id) on delete cascade,
      id text not null,
      delivery_id text not null,
      notification_id text,
      category text not null,
      subject text not null,
      email text not null,
      slots text[] not null,
      reason text not null check (reason in ('not_me', 'left', 'someone_else')),
      suggested_email text,
      note text,
      status text not null default 'open' check (status in ('open', 'dismissed')),
      created_at timestamptz not null default now(),
      dismissed_at timestamptz,
      primary key (account_id, id),
      unique (account_id, delivery_id)
    )`.execute(db)
  // the page's banner lists the open ones; the daily limit counts an account's newest
  await sql`create index correction_requests_recent on correction_requests (account_id, created_at)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('correction_requests').execute()
}
