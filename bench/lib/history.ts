/**
 * The retention benchmark's data: years of history, generated in SQL (the same statements fill
 * PostgreSQL and PGlite). N notifications of a broadcast-sized text, three email deliveries each,
 * created evenly over 11 years up to `t0`, so 90 % are older than the 400-day retention, in the
 * order they would have been written; 1 % still have a delivery being retried. Beside them N/5
 * webhook events with a delivery each (1 % in flight), N/10 idempotency keys over the last four
 * days and N/10 audit events over the same 11 years.
 *
 * A dataset is generated once and kept (a PostgreSQL database `ac_bench_history_<N>`, or
 * `<dataset>_history_<N>` beside a dataset the run names; or a PGlite folder); each side of a run works on a fresh copy. `t0` is kept with it: the benchmark's clock.
 */
import { type Kysely, sql } from 'kysely'

import type { Database } from '../../src/db/database.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'

/** How far back the history goes: 4,000 days, so 90 % of it is older than 400. */
const SPAN_DAYS = 4000
/** Idempotency keys cover the last four days: about half are older than their 48 hours. */
const KEY_SPAN_DAYS = 4
const CHUNK = 100_000
// a broadcast's text is copied into every account's notification (docs/RETENTION.md)
const TEXT = 'Your invoice for November is ready in the billing portal. '.repeat(12)

export interface HistorySize {
  notifications: number
  accounts: number
  events: number
  idempotencyKeys: number
  auditEvents: number
}

export const historySize = (notifications: number): HistorySize => ({
  notifications,
  accounts: Math.max(10, Math.floor(notifications / 10)),
  events: Math.floor(notifications / 5),
  idempotencyKeys: Math.floor(notifications / 10),
  auditEvents: Math.floor(notifications / 10),
})

const account = (i: unknown, accounts: number) => sql`'h' || lpad((1 + ${i} % ${accounts}::int)::text, 7, '0')`
/** Row i of n was created this long before t0: evenly over the span, the last row at t0. */
const createdAt = (t0: Date, i: unknown, n: number, spanDays: number) =>
  sql`${t0}::timestamptz - make_interval(secs => ${spanDays * 86_400}::float8 * (${n}::int - ${i}) / ${n}::int)`

async function notificationsChunk(db: Kysely<Database>, s: HistorySize, t0: Date, from: number, to: number) {
  const i = sql.ref('i')
  await sql`
    insert into notifications (account_id, id, category, subject, text, status, recipients, broadcast_id, actor_type, actor_id, created_at)
    select ${account(i, s.accounts)}, 'ntf_' || lpad(i::text, 8, '0'), 'invoice', 'Your invoice for November', ${TEXT}, 'queued',
      (select jsonb_agg(jsonb_build_object('email', 'user' || j || '@company' || i || '.example', 'name', 'User ' || j, 'userId', 'u' || j,
        'slots', jsonb_build_array(case j when 1 then 'primary' else 'billing' end))) from generate_series(1, 3) j),
      'bc_' || (i / 2000), 'api_key', 'benchmark', ${createdAt(t0, i, s.notifications, SPAN_DAYS)}
    from generate_series(${from}::int, ${to}::int) i`.execute(db)
  await sql`
    insert into deliveries (account_id, id, channel, notification_id, recipient, recipient_name, status, attempts, max_attempts,
      next_attempt_at, delivered_at, created_at, updated_at)
    select ${account(i, s.accounts)}, 'ntf_' || lpad(i::text, 8, '0') || '.' || j, 'email', 'ntf_' || lpad(i::text, 8, '0'),
      'user' || j || '@company' || i || '.example', 'User ' || j,
      case when i % 100 = 50 and j = 1 then 'retrying' when i % 10 = 0 and j = 3 then 'failed' else 'delivered' end,
      1, 8, ${t0}::timestamptz + interval '30 days', c + interval '5 seconds', c, c + interval '5 seconds'
    from generate_series(${from}::int, ${to}::int) i, generate_series(1, 3) j,
      lateral (select ${createdAt(t0, i, s.notifications, SPAN_DAYS)} as c) t`.execute(db)
}

async function eventsChunk(db: Kysely<Database>, s: HistorySize, t0: Date, from: number, to: number) {
  const k = sql.ref('k')
  await sql`
    insert into events (account_id, id, type, payload, created_at)
    select ${account(k, s.accounts)}, 'evt_' || lpad(k::text, 8, '0'), 'notification.delivered',
      jsonb_build_object('type', 'notification.delivered', 'accountId', ${account(k, s.accounts)},
        'data', jsonb_build_object('notificationId', 'ntf_' || lpad((k * 5)::text, 8, '0'), 'category', 'invoice', 'delivered', 3, 'failed', 0)),
      ${createdAt(t0, k, s.events, SPAN_DAYS)}
    from generate_series(${from}::int, ${to}::int) k`.execute(db)
  await sql`
    insert into deliveries (account_id, id, channel, event_id, endpoint_id, recipient, status, attempts, max_attempts,
      next_attempt_at, delivered_at, created_at, updated_at)
    select ${account(k, s.accounts)}, 'evt_' || lpad(k::text, 8, '0') || '.wh_bench', 'webhook', 'evt_' || lpad(k::text, 8, '0'), 'wh_bench',
      'https://crm.bench.invalid/hook', case when k % 100 = 50 then 'retrying' else 'delivered' end, 1, 12,
      ${t0}::timestamptz + interval '30 days', c, c, c
    from generate_series(${from}::int, ${to}::int) k, lateral (select ${createdAt(t0, k, s.events, SPAN_DAYS)} as c) t`.execute(
    db,
  )
}

async function keysAndAudit(db: Kysely<Database>, s: HistorySize, t0: Date, from: number, to: number) {
  const k = sql.ref('k')
  if (from <= s.idempotencyKeys) {
    await sql`
      insert into idempotency_keys (account_id, actor_id, key, request_hash, status, response_status, response_body, created_at)
      select ${account(k, s.accounts)}, 'key_bench', 'k' || k, md5(k::text), 'done', 202,
        jsonb_build_object('id', 'ntf_' || lpad(k::text, 8, '0'), 'status', 'queued'), ${createdAt(t0, k, s.idempotencyKeys, KEY_SPAN_DAYS)}
      from generate_series(${from}::int, ${Math.min(to, s.idempotencyKeys)}::int) k`.execute(db)
  }
  if (from <= s.auditEvents) {
    await sql`
      insert into audit_events (account_id, id, at, actor_type, actor_id, action, before, after, request_id)
      select ${account(k, s.accounts)}, 'aud_' || lpad(k::text, 8, '0'), ${createdAt(t0, k, s.auditEvents, SPAN_DAYS)}, 'api_key', 'key_bench',
        'contacts.updated', jsonb_build_object('primary', 'u1'), jsonb_build_object('primary', 'u2'), 'req-' || k
      from generate_series(${from}::int, ${Math.min(to, s.auditEvents)}::int) k`.execute(db)
  }
}

/** Migrates and fills an empty database with the history of `notifications` notifications; answers t0. */
export async function generateHistory(
  db: Kysely<Database>,
  notifications: number,
  say: (line: string) => void,
): Promise<Date> {
  const s = historySize(notifications)
  const t0 = new Date()
  await migrateToLatest(db)
  await sql`create table bench_meta (notifications int not null, t0 timestamptz not null)`.execute(db)
  await sql`
    insert into accounts (id, name) select 'h' || lpad(i::text, 7, '0'), 'Company ' || i from generate_series(1, ${s.accounts}::int) i`.execute(
    db,
  )
  await sql`insert into webhook_endpoints (id, url) values ('wh_bench', 'https://crm.bench.invalid/hook')`.execute(db)
  const started = Date.now()
  for (let from = 1; from <= notifications; from += CHUNK) {
    const to = Math.min(notifications, from + CHUNK - 1)
    await notificationsChunk(db, s, t0, from, to)
    if (from <= s.events) await eventsChunk(db, s, t0, from, Math.min(to, s.events))
    await keysAndAudit(db, s, t0, from, to)
    say(
      `  generated ${to.toLocaleString('en')} / ${notifications.toLocaleString('en')} notifications (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    )
  }
  // as a long-running database would be: visibility map set, statistics known
  await sql`vacuum analyze`.execute(db)
  await sql`insert into bench_meta (notifications, t0) values (${notifications}, ${t0})`.execute(db)
  return t0
}

/** The t0 of a complete dataset of this size, or undefined when there is none. */
export async function historyT0(db: Kysely<Database>, notifications: number): Promise<Date | undefined> {
  const t = await sql<{ ok: boolean }>`select to_regclass('bench_meta') is not null as ok`.execute(db)
  if (!t.rows[0]?.ok) return undefined
  const r = await sql<{ t0: Date }>`select t0 from bench_meta where notifications = ${notifications}`.execute(db)
  return r.rows[0] ? new Date(r.rows[0].t0) : undefined
}

/** Rows of each table, to check that both sides left the same history. */
export async function historyCounts(db: Kysely<Database>): Promise<Record<string, number>> {
  const r = await sql<Record<string, number>>`
    select (select count(*) from notifications)::int as notifications, (select count(*) from deliveries)::int as deliveries,
      (select count(*) from events)::int as events, (select count(*) from idempotency_keys)::int as idempotency_keys,
      (select count(*) from audit_events)::int as audit_events`.execute(db)
  return r.rows[0]!
}
