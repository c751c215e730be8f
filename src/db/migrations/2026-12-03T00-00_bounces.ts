import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. Bounces and complaints that arrive after a mail was handed over (issue 15):
 *
 * - deliveries.return_token: random, set when an email delivery is first claimed; the signed
 *   reference in its envelope sender and headers names it, so a late report finds its delivery.
 *   Unique across accounts (the report knows no account).
 * - deliveries.status 'bounced': handed over, then reported as not arrived (or refused at once
 *   for good); deliveries.fallback_for: the bounced delivery this one was sent in place of.
 * - undeliverable_addresses becomes suppressions, the account's list of addresses that get
 *   nothing until an admin fixes the slot or clears the address, with what put it there.
 * - mail_events: every report that matched a delivery, once (source, event id): a replay is
 *   recognised, soft bounces are counted over a window, and the history shows the reason.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table deliveries add column return_token text`.execute(db)
  await sql`alter table deliveries add column fallback_for text`.execute(db)
  await sql`create unique index deliveries_return_token on deliveries (return_token) where return_token is not null`.execute(
    db,
  )
  await sql`alter table deliveries drop constraint deliveries_status_check`.execute(db)
  await sql`
    alter table deliveries add constraint deliveries_status_check
      check (status in ('queued', 'sending', 'retrying', 'delivered', 'failed', 'cancelled', 'bounced'))`.execute(db)

  await sql`alter table undeliverable_addresses rename to suppressions`.execute(db)
  await sql`alter table suppressions rename constraint undeliverable_addresses_pkey to suppressions_pkey`.execute(db)
  await sql`alter table suppressions rename constraint undeliverable_addresses_account_id_fkey to suppressions_account_id_fkey`.execute(
    db,
  )
  await sql`
    alter table suppressions
      add column kind text not null default 'hard_bounce' check (kind in ('hard_bounce', 'soft_bounce', 'complaint')),
      add column source text not null default 'smtp' check (source in ('smtp', 'ses', 'postmark', 'sendgrid', 'mailgun')),
      add column delivery_id text`.execute(db)

  await sql`
    create table mail_events (
      source text not null check (source in ('smtp', 'ses', 'postmark', 'sendgrid', 'mailgun')),
      event_id text not null,
      account_id text not null references accounts (id) on delete cascade,
      delivery_id text not null,
      kind text not null check (kind in ('hard_bounce', 'soft_bounce', 'complaint', 'delivered')),
      recipient text not null,
      diagnostic text not null,
      at timestamptz not null,
      received_at timestamptz not null default now(),
      primary key (source, event_id)
    )`.execute(db)
  // soft bounces of one address, counted over a window; a delivery's reports, for its history
  await sql`create index mail_events_soft on mail_events (account_id, recipient, at) where kind = 'soft_bounce'`.execute(
    db,
  )
  await sql`create index mail_events_delivery on mail_events (account_id, delivery_id)`.execute(db)
  // the retention chore prunes them oldest first
  await sql`create index mail_events_received on mail_events (received_at)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mail_events').execute()
  await sql`alter table suppressions drop column kind, drop column source, drop column delivery_id`.execute(db)
  await sql`alter table suppressions rename constraint suppressions_pkey to undeliverable_addresses_pkey`.execute(db)
  await sql`alter table suppressions rename constraint suppressions_account_id_fkey to undeliverable_addresses_account_id_fkey`.execute(
    db,
  )
  await sql`alter table suppressions rename to undeliverable_addresses`.execute(db)
  await sql`delete from deliveries where status = 'bounced'`.execute(db)
  await sql`alter table deliveries drop constraint deliveries_status_check`.execute(db)
  await sql`
    alter table deliveries add constraint deliveries_status_check
      check (status in ('queued', 'sending', 'retrying', 'delivered', 'failed', 'cancelled'))`.execute(db)
  await sql`drop index deliveries_return_token`.execute(db)
  await sql`alter table deliveries drop column return_token, drop column fallback_for`.execute(db)
}
