import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. How many verification mails went out lately, per account and per address,
 * account or caller within it, so that a limit holds across processes (the limits themselves are
 * in src/verification/verification-limits.ts).
 *
 * - scope 'address': key is the lower-cased address; 'account': key is ''; 'caller': key is
 *   '<actor type>:<actor id>'.
 * - sent_at: the send times still inside the scope's longest window, oldest first (a JSON array
 *   of ISO times, a few entries at most); last_at: the newest of them, for pruning.
 * - One row per key, locked (FOR UPDATE) while a mail is counted: concurrent senders of one key
 *   wait for each other, or (repeatable read, serializable) fail and are run again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create table verification_mail_limits (
      account_id text not null references accounts (id) on delete cascade,
      scope text not null check (scope in ('address', 'account', 'caller')),
      key text not null,
      sent_at jsonb not null,
      last_at timestamptz not null,
      primary key (account_id, scope, key)
    )`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('verification_mail_limits').execute()
}
