import { sql } from 'kysely'

import type { Db } from '../db/database.ts'
import { anyOf } from '../db/keys.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import { type Recipient, resolveRecipientsSql } from '../routing/recipients.repository.ts'
import type { CategoryRule } from '../routing/routing-policy.ts'
import type { Bounce } from './bounce-consequences.ts'
import { type HolderContext, holderContextColumns, holderOf, refsSince } from './bounces.repository.ts'
import type { MailEvent } from './mail-event.ts'

/*
 * The statements of a batch of bounces (bounce-batch.ts): each does for the whole set what
 * bounces.repository.ts does for one, with the lists as arrays (db/keys.ts).
 */

/**
 * The email deliveries these tokens name whose references have not expired, locked until the
 * transaction ends, in key order: two requests locking overlapping sets take them in the same
 * order, so neither holds one the other waits for while waiting itself.
 */
export const lockDeliveriesByTokens = (db: Db, tokens: string[]): Promise<DeliveryRow[]> =>
  db
    .selectFrom('deliveries')
    .selectAll()
    .where('return_token', '=', anyOf(tokens))
    .where('channel', '=', 'email')
    .where('created_at', '>', refsSince())
    .orderBy('account_id')
    .orderBy('id')
    .forUpdate()
    .execute()

/**
 * Soft bounces of each (account, address) since `days` days ago, and the database's now (which
 * the counting window is measured from), for counting the request's own reports on top.
 */
export async function countSoftBouncesOf(
  db: Db,
  keys: { accountId: string; email: string }[],
  days: number,
): Promise<{ counts: Map<string, number>; now: Date }> {
  const res = await sql<{ account_id: string; email: string; n: number; now: Date }>`
    select x.a as account_id, x.e as email, now() as now,
      (select count(*)::int from mail_events m
        where m.account_id = x.a and m.recipient = x.e and m.kind = 'soft_bounce'
          and m.at > now() - make_interval(days => ${days})) as n
    from (select distinct a, e from unnest(${keys.map((k) => k.accountId)}::text[],
      ${keys.map((k) => k.email.toLowerCase())}::text[]) as x(a, e)) x`.execute(db)
  const counts = new Map(res.rows.map((r) => [`${r.account_id} ${r.email}`, r.n]))
  // a row per key, so one at least: the caller counts only for some
  return { counts, now: res.rows[0]!.now }
}

/** A notification locked for its bounced deliveries, with what their consequences read of it. */
export interface LockedNotification {
  account_id: string
  id: string
  kind: 'notification' | 'system'
  category: string
}

/**
 * Keeps reports, each once per (source, event id), each for its delivery, and locks the
 * notifications `lock` names (in key order, after the deliveries and the addresses, as a bounce
 * taken alone does), in one statement: the reports' insert takes no lock another request could
 * hold, as each report's delivery is locked already. Answers the `source/eventId` of the reports
 * kept now (the others were kept before: replays) and the notifications.
 */
export async function keepReports(
  db: Db,
  reports: { event: MailEvent; d: DeliveryRow }[],
  lock: { account_id: string; notification_id: string }[],
): Promise<{ kept: Set<string>; notifications: LockedNotification[] }> {
  const col = <T>(f: (r: { event: MailEvent; d: DeliveryRow }) => T) => reports.map(f)
  const res = await sql<{ kept: string[]; notifications: LockedNotification[] }>`
    with kept as (
      insert into mail_events (source, event_id, account_id, delivery_id, kind, recipient, diagnostic, at)
      select s, i, a, d, k, r, dg, t
      from unnest(${col((r) => r.event.source)}::text[], ${col((r) => r.event.eventId.slice(0, 500))}::text[],
        ${col((r) => r.d.account_id)}::text[], ${col((r) => r.d.id)}::text[], ${col((r) => r.event.kind)}::text[],
        ${col((r) => r.d.recipient.toLowerCase())}::text[], ${col((r) => r.event.diagnostic.slice(0, 500))}::text[],
        ${col((r) => r.event.at.toISOString())}::timestamptz[]) as x(s, i, a, d, k, r, dg, t)
      on conflict (source, event_id) do nothing
      returning source, event_id
    ),
    locked as (
      select account_id, id, kind, category from notifications
      where (account_id, id) in (select * from unnest(${lock.map((n) => n.account_id)}::text[],
        ${lock.map((n) => n.notification_id)}::text[]))
      order by account_id, id
      for update
    )
    select (select coalesce(jsonb_agg(source || '/' || event_id), '[]') from kept) as kept,
      (select coalesce(jsonb_agg(jsonb_build_object('account_id', account_id, 'id', id, 'kind', kind, 'category', category)), '[]')
        from locked) as notifications`.execute(db)
  const row = res.rows[0]!
  return { kept: new Set(row.kept), notifications: row.notifications }
}

/**
 * Marks the deliveries bounced and puts their addresses on the suppression lists of the accounts
 * whose contacts they are (holderOf), and reads what the rest needs to know of each (account,
 * address) (readBounceContext's reads), in one statement, by `account address`. The read does not
 * see the statement's own suppressions: it answers whether the address was on the holder's list
 * before. One suppression per (holder, address): an upsert may not touch a row twice in one
 * statement, so the last bounce of an address says why it is there, as it would one by one.
 */
export async function suppressReadingContexts(db: Db, bounces: Bounce[]): Promise<Map<string, HolderContext>> {
  const res = await sql<HolderContext & { account_id: string; email: string }>`
    with marked as (
      update deliveries d set status = 'bounced', last_error = x.reason, lock_token = null, updated_at = now()
      from unnest(${bounces.map((b) => b.delivery.account_id)}::text[], ${bounces.map((b) => b.delivery.id)}::text[],
        ${bounces.map((b) => b.reason.slice(0, 500))}::text[]) as x(a, i, reason)
      where d.account_id = x.a and d.id = x.i
    ),
    -- each bounce with the account whose contact its address is (named b: the context's subqueries use x)
    b as (
      select x.*, ${holderOf(sql.ref('x.a'), sql.ref('x.e'))} as holder
      from unnest(${bounces.map((b) => b.delivery.account_id)}::text[],
        ${bounces.map((b) => b.delivery.recipient.toLowerCase())}::text[], ${bounces.map((b) => b.kind)}::text[],
        ${bounces.map((b) => b.reason.slice(0, 500))}::text[], ${bounces.map((b) => b.source)}::text[],
        ${bounces.map((b) => b.delivery.id)}::text[]) with ordinality as x(a, e, k, r, s, d, n)
    ),
    -- in key order, so that two requests suppressing the same addresses wait in one order
    suppressed as (
      insert into suppressions (account_id, email, kind, reason, source, delivery_id, at)
      select distinct on (holder, e) holder, e, k, r, s, case when holder = a then d end, now()
      from b
      order by holder, e, n desc
      on conflict (account_id, email) do update set kind = excluded.kind, reason = excluded.reason,
        source = excluded.source, delivery_id = excluded.delivery_id, at = excluded.at
    )
    select distinct on (b.a, b.e) b.a as account_id, b.e as email,
      ${holderContextColumns(sql.ref('b.holder'), sql.ref('b.e'))}
    from b`.execute(db)
  return new Map(res.rows.map(({ account_id, email, ...c }) => [`${account_id} ${email}`, c]))
}

/** A notification to send again after its deliveries bounced, standing in for one of them. */
export interface FallbackTarget {
  accountId: string
  notificationId: string
  /** The bounced delivery the new ones stand in for, and its address. */
  deliveryId: string
  address: string
  maxAttempts: number
}

/**
 * `addRecipients` of the recipients `rule` chooses now for several notifications of one category,
 * routing and writes in one statement: the routing runs once per account, each notification gets
 * a delivery per chosen address it has none for (a delivery's id is the notification's and a hash
 * of the address, as the fan-out makes them), and the notification's recipients list the added
 * ones with the address they stand in for. Answers, per notification, who was queued.
 */
export async function queueFallbacks(
  db: Db,
  rule: CategoryRule,
  targets: FallbackTarget[],
): Promise<{ account_id: string; notification_id: string; recipients: Recipient[] }[]> {
  if (targets.length === 0) return []
  const col = <T>(f: (t: FallbackTarget) => T) => targets.map(f)
  const res = await sql<{ account_id: string; notification_id: string; recipients: Recipient[] }>`
    with t as (
      select * from unnest(${col((t) => t.accountId)}::text[], ${col((t) => t.notificationId)}::text[],
        ${col((t) => t.deliveryId)}::text[], ${col((t) => t.address)}::text[], ${col((t) => t.maxAttempts)}::int[])
        as t(account_id, id, delivery_id, address, max_attempts)
    ),
    resolved as (${resolveRecipientsSql(sql`select distinct account_id as id from t`, rule)}),
    wanted as (
      select t.*, r.x, r.ord from t
      join resolved res on res.account_id = t.account_id
      cross join lateral jsonb_array_elements(res.recipients) with ordinality as r(x, ord)
    ),
    queued as (
      insert into deliveries (account_id, id, channel, notification_id, recipient, recipient_name, max_attempts, fallback_for)
      select account_id, id || '.' || left(md5(lower(x->>'email')), 16), 'email', id, x->>'email', x->>'name',
        max_attempts, delivery_id
      from wanted
      on conflict (account_id, id) do nothing
      returning account_id, notification_id, recipient
    ),
    added as (
      select w.account_id, w.id, jsonb_agg(w.x || jsonb_build_object('fallbackFor', w.address) order by w.ord) as recipients
      from wanted w
      join queued q on q.account_id = w.account_id and q.notification_id = w.id and q.recipient = w.x->>'email'
      group by w.account_id, w.id
    ),
    updated as (
      update notifications n set recipients = n.recipients || a.recipients
      from added a where n.account_id = a.account_id and n.id = a.id
      returning 1
    )
    select account_id, id as notification_id, recipients from added`.execute(db)
  return res.rows
}

/**
 * Marks bounced the claimed deliveries this claim (`token`) still holds, each with why its address
 * is on the suppression list, in one statement, as `suppressReadingContexts` marks a batch's;
 * answers the ones it marked.
 */
export async function markSuppressed(
  db: Db,
  ds: { account_id: string; id: string; reason: string }[],
  token: string,
): Promise<DeliveryRow[]> {
  if (ds.length === 0) return []
  const res = await sql<DeliveryRow>`
    update deliveries d set status = 'bounced', last_error = x.reason, lock_token = null, updated_at = now()
    from unnest(${ds.map((x) => x.account_id)}::text[], ${ds.map((x) => x.id)}::text[],
      ${ds.map((x) => x.reason.slice(0, 500))}::text[]) as x(a, i, reason)
    where d.account_id = x.a and d.id = x.i and d.lock_token = ${token}
    returning d.*`.execute(db)
  return res.rows
}
