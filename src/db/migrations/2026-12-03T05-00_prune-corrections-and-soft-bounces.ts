import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. What the retention chore (src/retention/) needs to prune two more tables oldest
 * first without reading them: correction requests by when they were dismissed (an open one has
 * none, and is never pruned), and the soft-bounce rows of addresses by their last soft bounce,
 * which they now record (rows there before this migration count as bounced at the upgrade).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index correction_requests_dismissed on correction_requests (dismissed_at)`.execute(db)
  await sql`alter table soft_bounce_addresses add column last_report_at timestamptz not null default now()`.execute(db)
  await sql`create index soft_bounce_addresses_last_report on soft_bounce_addresses (last_report_at)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index soft_bounce_addresses_last_report`.execute(db)
  await sql`alter table soft_bounce_addresses drop column last_report_at`.execute(db)
  await sql`drop index correction_requests_dismissed`.execute(db)
}
