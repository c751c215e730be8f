import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. Broadcasts can be cancelled, advance in turns, and keep their text once.
 *
 * - A broadcast is 'running', 'done' (every account fanned out) or 'cancelled'. A cancel also
 *   cancels the deliveries of its notifications that were not yet sent: delivery status 'cancelled'.
 * - advanced_at: when a batch of it was last fanned out; the workers take the running broadcast
 *   least recently advanced, so broadcasts started later are not queued behind earlier ones.
 * - A broadcast's notifications no longer copy its text (it was one copy per account): their text
 *   is null and the mail is rendered from the broadcast's row (broadcasts are never deleted: they
 *   are state, not history, and retention keeps them). Older rows keep their own copy and stay
 *   readable. No foreign key to broadcasts: rows written before may name one that is not there.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table broadcasts drop constraint broadcasts_status_check`.execute(db)
  await sql`alter table broadcasts add constraint broadcasts_status_check check (status in ('running', 'done', 'cancelled'))`.execute(db)
  await sql`alter table broadcasts add column html text`.execute(db)
  await sql`alter table broadcasts add column advanced_at timestamptz`.execute(db)
  await sql`alter table broadcasts add column cancelled_at timestamptz`.execute(db)
  await sql`alter table broadcasts add column cancelled_by text`.execute(db)
  await sql`alter table broadcasts add column cancelled_deliveries integer not null default 0`.execute(db)
  // The workers' pick: the running broadcast least recently advanced (never advanced first).
  await sql`create index broadcasts_running on broadcasts (advanced_at nulls first, created_at) where status = 'running'`.execute(db)

  await sql`alter table deliveries drop constraint deliveries_status_check`.execute(db)
  await sql`alter table deliveries add constraint deliveries_status_check
    check (status in ('queued', 'sending', 'retrying', 'delivered', 'failed', 'cancelled'))`.execute(db)

  await sql`alter table notifications alter column text drop not null`.execute(db)
  // NOT VALID: every row written before has its text, so checking them would only scan the whole
  // table under this migration's exclusive lock; new and updated rows are checked all the same.
  await sql`alter table notifications add constraint notifications_text_check check (text is not null or broadcast_id is not null) not valid`.execute(db)
  // Finds the broadcast's notifications (a done broadcast's open mail). Built in this transaction,
  // so writes to notifications wait while it builds (CREATE INDEX CONCURRENTLY cannot run inside a
  // transaction block), and the build reads the whole table, though it holds only broadcasts' rows.
  await sql`create index notifications_broadcast on notifications (broadcast_id) where broadcast_id is not null`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index notifications_broadcast`.execute(db)
  await sql`alter table notifications drop constraint notifications_text_check`.execute(db)
  await sql`update notifications n set text = b.text from broadcasts b where n.text is null and b.id = n.broadcast_id`.execute(db)
  await sql`alter table notifications alter column text set not null`.execute(db)
  await sql`update deliveries set status = 'failed', last_error = coalesce(last_error, 'cancelled') where status = 'cancelled'`.execute(db)
  await sql`alter table deliveries drop constraint deliveries_status_check`.execute(db)
  await sql`alter table deliveries add constraint deliveries_status_check check (status in ('queued', 'sending', 'retrying', 'delivered', 'failed'))`.execute(db)
  await sql`drop index broadcasts_running`.execute(db)
  await sql`update broadcasts set status = 'done' where status = 'cancelled'`.execute(db)
  await sql`alter table broadcasts drop constraint broadcasts_status_check`.execute(db)
  await sql`alter table broadcasts add constraint broadcasts_status_check check (status in ('running', 'done'))`.execute(db)
  for (const c of ['cancelled_deliveries', 'cancelled_by', 'cancelled_at', 'advanced_at', 'html']) {
    await sql`alter table broadcasts drop column ${sql.id(c)}`.execute(db)
  }
}
