import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. Indexes for the retention chore (src/retention/): it deletes history oldest
 * first, a thousand rows a batch, and each batch must find its rows without reading the table.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index notifications_created on notifications (created_at)`.execute(db)
  await sql`create index events_created on events (created_at)`.execute(db)
  await sql`create index idempotency_keys_created on idempotency_keys (created_at)`.execute(db)
  await sql`create index audit_events_at on audit_events (at)`.execute(db)
  // Deleting an event deletes its deliveries by cascade, one lookup per event: without this index
  // each lookup read the whole deliveries table (account deletion paid that too).
  await sql`create index deliveries_event on deliveries (account_id, event_id) where event_id is not null`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const i of ['deliveries_event', 'audit_events_at', 'idempotency_keys_created', 'events_created', 'notifications_created']) {
    await sql`drop index ${sql.id(i)}`.execute(db)
  }
}
