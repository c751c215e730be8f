import { type Expression, sql } from 'kysely'

import type { Db } from '../db/database.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import type { MailEvent } from './mail-event.ts'
import { REF_LIFETIME_DAYS } from './return-path.ts'
import type { SuppressionKind } from './suppressions.table.ts'

/** Deliveries created since this: the others' references have expired (REF_LIFETIME_DAYS). */
export const refsSince = () => sql<Date>`now() - make_interval(days => ${REF_LIFETIME_DAYS})`

/**
 * The email delivery a return-path token names, if its reference has not expired, locked until
 * the transaction ends: two reports of one delivery (a DSN and the service's event, or a replay)
 * are taken one after the other.
 */
export const lockDeliveryByToken = (db: Db, token: string): Promise<DeliveryRow | undefined> =>
  db
    .selectFrom('deliveries')
    .selectAll()
    .where('return_token', '=', token)
    .where('channel', '=', 'email')
    .where('created_at', '>', refsSince())
    .forUpdate()
    .executeTakeFirst()

/**
 * Locks the (account, address) pairs of soft bounces until the transaction ends, in one order, so
 * that two soft bounces of one address count one after the other: each counting before the other's
 * report is visible, neither would reach the limit. By updating a row per address (made on its
 * first soft bounce), not by an advisory lock: at REPEATABLE READ and SERIALIZABLE a writer whose
 * snapshot is older than another's commit of the same row fails (40001, and the transaction is
 * tried again with a new snapshot) instead of counting without that report.
 */
export async function lockAddresses(db: Db, keys: { accountId: string; email: string }[]): Promise<void> {
  const unique = [...new Map(keys.map((k) => [`${k.accountId} ${k.email.toLowerCase()}`, k])).entries()].sort(
    ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0),
  )
  if (unique.length === 0) return
  // one statement, its rows in key order, so that two writers never wait for each other in a circle
  await sql`
    insert into soft_bounce_addresses (account_id, email)
    select a, e from unnest(${unique.map(([, k]) => k.accountId)}::text[], ${unique.map(([, k]) => k.email.toLowerCase())}::text[])
      with ordinality as x(a, e, i) order by i
    on conflict (account_id, email) do update set reports = soft_bounce_addresses.reports + 1, last_report_at = now()`.execute(
    db,
  )
}

/** Keeps the report once; false when this source's event was taken before (a replay). */
export async function insertMailEvent(db: Db, d: DeliveryRow, e: MailEvent): Promise<boolean> {
  const row = await db
    .insertInto('mail_events')
    .values({
      source: e.source,
      event_id: e.eventId.slice(0, 500),
      account_id: d.account_id,
      delivery_id: d.id,
      kind: e.kind,
      recipient: d.recipient.toLowerCase(),
      diagnostic: e.diagnostic.slice(0, 500),
      at: e.at,
    })
    .onConflict((oc) => oc.columns(['source', 'event_id']).doNothing())
    .returning('event_id')
    .executeTakeFirst()
  return row !== undefined
}

/**
 * Keeps delivery reports at once, each once per (source, event id), joined to the delivery their
 * token names. Answers, by `source/eventId`, 'recorded' for those kept now and 'replay' for those
 * kept before; a report whose token names no delivery is absent.
 */
export async function recordMailEvents(
  db: Db,
  reports: { event: MailEvent; token: string }[],
): Promise<Map<string, 'recorded' | 'replay'>> {
  const out = new Map<string, 'recorded' | 'replay'>()
  if (reports.length === 0) return out
  const col = <T>(f: (r: { event: MailEvent; token: string }) => T) => reports.map(f)
  const res = await sql<{ source: string; event_id: string; inserted: boolean }>`
    with x as (
      select * from unnest(${col((r) => r.event.source)}::text[], ${col((r) => r.event.eventId.slice(0, 500))}::text[],
        ${col((r) => r.token)}::text[], ${col((r) => r.event.kind)}::text[], ${col((r) => r.event.diagnostic.slice(0, 500))}::text[],
        ${col((r) => r.event.at.toISOString())}::timestamptz[]) as x(source, event_id, token, kind, diagnostic, at)
    ),
    matched as (
      select x.*, d.account_id, d.id as delivery_id, lower(d.recipient) as recipient
      from x join deliveries d on d.return_token = x.token and d.channel = 'email' and d.created_at > ${refsSince()}
    ),
    inserted as (
      insert into mail_events (source, event_id, account_id, delivery_id, kind, recipient, diagnostic, at)
      select source, event_id, account_id, delivery_id, kind, recipient, diagnostic, at from matched
      on conflict (source, event_id) do nothing
      returning source, event_id
    )
    select m.source, m.event_id, exists (
      select 1 from inserted i where i.source = m.source and i.event_id = m.event_id) as inserted
    from matched m`.execute(db)
  for (const r of res.rows) out.set(`${r.source}/${r.event_id}`, r.inserted ? 'recorded' : 'replay')
  return out
}

/** Soft bounces of one address in an account since `days` days ago, this one included (lockAddresses first). */
export async function countSoftBounces(db: Db, accountId: string, email: string, days: number): Promise<number> {
  const res = await sql<{ n: number }>`
    select count(*)::int as n from mail_events
    where account_id = ${accountId} and recipient = ${email.toLowerCase()} and kind = 'soft_bounce'
      and at > now() - make_interval(days => ${days})`.execute(db)
  return res.rows[0]?.n ?? 0
}

/** Marks the delivery bounced with the reason (the caller holds its row, locked, and saw it not bounced yet). */
export const markBounced = (db: Db, d: Pick<DeliveryRow, 'account_id' | 'id'>, reason: string) =>
  db
    .updateTable('deliveries')
    .set({ status: 'bounced', last_error: reason.slice(0, 500), lock_token: null, updated_at: sql`now()` })
    .where('account_id', '=', d.account_id)
    .where('id', '=', d.id)

/** Puts the address on the account's suppression list, or updates why it is there. */
export function suppressWrite(
  db: Db,
  s: {
    accountId: string
    email: string
    kind: SuppressionKind
    reason: string
    source: MailEvent['source']
    /** The mail that bounced; null when it was another account's (an inherited contact's: holderOf). */
    deliveryId: string | null
  },
) {
  const values = {
    kind: s.kind,
    reason: s.reason.slice(0, 500),
    source: s.source,
    delivery_id: s.deliveryId,
    at: sql<Date>`now()`,
  }
  return db
    .insertInto('suppressions')
    .values({ account_id: s.accountId, email: s.email.toLowerCase(), ...values })
    .onConflict((oc) => oc.columns(['account_id', 'email']).doUpdateSet(values))
}

/**
 * The account whose contact an address is, for mail of `account`: the nearest of the account and
 * its ancestors that holds the address in a slot (a child's inherited billing contact is its
 * parent's), else the account itself. A bounce suppresses the address there and tells that
 * account's admins, who can change the contact; the routing of every account that inherits it
 * skips it from then on (routing/recipients.repository.ts reads the source's list). `email` is
 * lower-cased.
 */
export const holderOf = (account: Expression<string>, email: Expression<string>) => sql<string>`coalesce((
    with recursive up (id, parent_account_id, distance) as (
      select a.id, a.parent_account_id, 0 from accounts a where a.id = ${account}
      union all
      select p.id, p.parent_account_id, up.distance + 1 from accounts p join up on p.id = up.parent_account_id
    )
    select up.id from up
    where exists (select 1 from contact_slots s left join users u on u.account_id = s.account_id and u.id = s.user_id
      where s.account_id = up.id and lower(coalesce(u.email, s.email)) = ${email})
    order by up.distance limit 1
  ), ${account})`

/** What a bounce needs to know of the account whose contact the address is (holderOf). */
export interface HolderContext {
  holderAccountId: string
  /** The slots the address holds there (a user's current address, or an outside one), with the user. */
  held: { slot: string; user_id: string | null }[]
  account: { name: string; locale: 'en' | 'fi' }
  /** Who is told to fix the contact: the holder's active super admins. */
  admins: { id: string; email: string; name: string; locale: 'en' | 'fi' | null }[]
  /** Whether the address was on the holder's list already: its admins were told then. */
  suppressed: boolean
}

/**
 * The columns of a HolderContext, for the holder `holder` (a column of the caller's) and the
 * lower-cased address `email`: what a bounce taken alone (readBounceContext) and a request's
 * bounces together (bounce-batch.repository.ts) read of it. The subqueries name their tables s,
 * u, a and x: `holder` and `email` must be qualified by another name.
 */
export const holderContextColumns = (holder: Expression<string>, email: Expression<string>) => sql`
    ${holder} as "holderAccountId",
    (select coalesce(jsonb_agg(jsonb_build_object('slot', s.slot, 'user_id', s.user_id) order by s.slot, s.position), '[]')
      from contact_slots s left join users u on u.account_id = s.account_id and u.id = s.user_id
      where s.account_id = ${holder} and lower(coalesce(u.email, s.email)) = ${email}) as held,
    (select jsonb_build_object('name', a.name, 'locale', a.locale) from accounts a where a.id = ${holder}) as account,
    (select coalesce(jsonb_agg(jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name, 'locale', u.locale)
        order by u.id), '[]')
      from users u where u.account_id = ${holder} and u.status = 'active' and u.role = 'super_admin'
        -- a suppressed admin is not written to (our own mail skips the list too)
        and not exists (select 1 from suppressions x where x.account_id = u.account_id and x.email = lower(u.email))) as admins,
    exists (select 1 from suppressions x where x.account_id = ${holder} and x.email = ${email}) as suppressed`

export interface BounceContext extends HolderContext {
  /** The bounced mail's notification: a platform's (with a category rule) or our own. */
  notification: { kind: 'notification' | 'system'; category: string } | null
}

/** What a bounce needs to know, in one read, before it writes (the holder's list as it was). */
export async function readBounceContext(
  db: Db,
  d: Pick<DeliveryRow, 'account_id' | 'notification_id'>,
  email: string,
): Promise<BounceContext> {
  const e = email.toLowerCase()
  const res = await sql<BounceContext>`
    with h as (select ${holderOf(sql.val(d.account_id), sql.val(e))} as id)
    select ${holderContextColumns(sql.ref('h.id'), sql.val(e))},
      (select jsonb_build_object('kind', n.kind, 'category', n.category) from notifications n
        where n.account_id = ${d.account_id} and n.id = ${d.notification_id}) as notification
    from h`.execute(db)
  return res.rows[0]!
}

/**
 * Locks the bounced delivery's notification until the transaction ends: two of its deliveries
 * bouncing at once take turns, so the second's routing sees the first's suppression and one of
 * them queues the fallback (without it, each could count on the other address and neither would).
 */
export async function lockNotificationOf(db: Db, d: Pick<DeliveryRow, 'account_id' | 'notification_id'>) {
  if (!d.notification_id) return
  await sql`select 1 from notifications where account_id = ${d.account_id} and id = ${d.notification_id} for update`.execute(
    db,
  )
}
