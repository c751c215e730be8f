import { sql, type Transaction } from 'kysely'

import { ANCESTOR_DISTANCES } from '../accounts/account-tree.ts'
import type { Database, Db } from '../db/database.ts'
import { anyOf, whereKeys } from '../db/keys.ts'
import { transaction } from '../db/transaction.ts'
import type { Locale } from '../i18n/labels.ts'
import type { Recipient } from '../routing/recipients.repository.ts'
import type { DeliveryRow } from './deliveries.table.ts'
import { BACKOFF_JITTER, BACKOFF_MAX_SECONDS } from './retry-policy.ts'

/*
 * The outbox protocol, one function per SQL operation (as Graphile Worker keeps them):
 * claim → send (outside any transaction) → settle with the claim's token.
 */

/**
 * Whether the delivery `alias` (a table name or alias in the statement) is mail of a broadcast
 * that was cancelled. Stated once: the claim and `settleFailed` both turn such a row 'cancelled'.
 * Two primary-key probes (notification, broadcast); a webhook's delivery has no notification.
 */
const ofCancelledBroadcast = (alias: string) => sql<boolean>`exists (
  select 1 from notifications n join broadcasts b on b.id = n.broadcast_id
  where n.account_id = ${sql.ref(`${alias}.account_id`)} and n.id = ${sql.ref(`${alias}.notification_id`)}
    and b.status = 'cancelled')`

/** The last_error of a delivery cancelled with its broadcast. */
export const CANCELLED_DETAIL = 'the broadcast was cancelled'

/**
 * Claims up to `limit` due deliveries for this worker: queued ones, retries whose time has come,
 * and 'sending' ones whose lease ran out (their worker died). SKIP LOCKED lets any number of
 * workers claim at once without waiting on or double-taking each other's rows; the new
 * lock_token fences off a slow former owner; the lease is written as the next due time.
 * A due row of a cancelled broadcast is not claimed but cancelled in the same statement: one left
 * 'sending' by a dead worker (the cancel leaves 'sending' rows alone), or one the cancel has not
 * reached yet. Only the claimed rows are returned.
 *
 * An email whose address went on the suppression list of the account, or of the ancestor whose
 * contact it is, after it was queued is claimed
 * too, with the list's reason as `suppressed`, not counted as an attempt: the worker must not send
 * it but settle it as diverted to its fallback (bounces/suppressed-deliveries.ts), under the claim,
 * so that a worker dying in between leaves it to the next claim as any other.
 */
export async function claimDeliveries(
  db: Db,
  opts: { limit: number; leaseSeconds: number; token: string },
): Promise<ClaimedDelivery[]> {
  const res = await sql<ClaimedDelivery>`
    with due as (
      select account_id, id, ${ofCancelledBroadcast('deliveries')} as cancelled,
        -- a primary-key probe; a webhook's recipient is an endpoint, never on the list
        case when channel = 'email' then coalesce(
          (select x.reason from suppressions x
            where x.account_id = deliveries.account_id and x.email = lower(deliveries.recipient)),
          -- or on an ancestor's, whose contact the address is (bounces/bounces.repository.ts holderOf):
          -- the mail of another account below it bounced (for a flat account, one more key probe)
          -- (a1 is the account itself, a2… its ancestors: the parent of each a<i> is i levels up)
          (select x.reason from accounts a1
            ${sql.join(
              ANCESTOR_DISTANCES.slice(1).map(
                (i) =>
                  sql`left join accounts ${sql.id(`a${i}`)} on ${sql.ref(`a${i}.id`)} = ${sql.ref(`a${i - 1}.parent_account_id`)}`,
              ),
              sql` `,
            )}
            join suppressions x on x.email = lower(deliveries.recipient)
              and x.account_id in (${sql.join(ANCESTOR_DISTANCES.map((i) => sql.ref(`a${i}.parent_account_id`)))})
            where a1.id = deliveries.account_id and a1.parent_account_id is not null
            limit 1)
        ) end as suppressed
      from deliveries
      where status in ('queued', 'retrying', 'sending') and next_attempt_at <= now()
      order by next_attempt_at
      limit ${opts.limit}
      for update skip locked
    ), taken as (
      update deliveries d
      set status = case when due.cancelled then 'cancelled' else 'sending' end,
          attempts = case when due.cancelled or due.suppressed is not null then d.attempts else d.attempts + 1 end,
          lock_token = case when due.cancelled then null else ${opts.token} end,
          next_attempt_at = case when due.cancelled then d.next_attempt_at
            else now() + make_interval(secs => ${opts.leaseSeconds}) end,
          last_error = case when due.cancelled then ${CANCELLED_DETAIL} else d.last_error end,
          -- the token a late bounce names this mail by (bounces/return-path.ts): made once, kept on retries
          return_token = case when d.channel = 'email'
            then coalesce(d.return_token, replace(gen_random_uuid()::text, '-', '')) end,
          updated_at = now()
      from due
      where d.account_id = due.account_id and d.id = due.id
      returning d.*, due.suppressed
    )
    select * from taken where status = 'sending'`.execute(db)
  return res.rows
}

/** A claimed delivery; `suppressed`: why its address is on the account's suppression list, if it is. */
export type ClaimedDelivery = DeliveryRow & { suppressed: string | null }

export interface EmailContent {
  subject: string
  text: string
  html: string | null
  category: string
  kind: 'notification' | 'system'
  is_test: boolean
  /** Who it was routed to, and by which slots: what each recipient's "why you got this" line says. */
  recipients: Recipient[]
  account_name: string
  account_locale: Locale
  /** The languages of its recipients who are users with one of their own, by recipientUserKey. */
  user_locales: Record<string, Locale> | null
}

/** A recipient's key in `user_locales`: the user id, after the account it is a user of when another. */
export const recipientUserKey = (r: Pick<Recipient, 'userId' | 'userAccountId'>) =>
  r.userId ? `${r.userAccountId ?? ''}/${r.userId}` : undefined

/**
 * What claimed email deliveries carry, by notification: one query for the whole batch. A
 * broadcast's notification has no text of its own (null): it is read from the broadcast, where it
 * is stored once. Rows written before that keep their own copy, which wins.
 */
export async function loadEmailContent(db: Db, keys: { account_id: string; notification_id: string }[]) {
  if (keys.length === 0) return new Map<string, EmailContent>()
  const rows = await db
    .selectFrom('notifications as n')
    .innerJoin('accounts as a', 'a.id', 'n.account_id')
    .leftJoin('broadcasts as b', (j) => j.onRef('b.id', '=', 'n.broadcast_id').on('n.text', 'is', null))
    .select(['n.account_id', 'n.id', 'n.subject', 'n.category', 'n.kind', 'n.is_test', 'n.recipients'])
    .select(['a.name as account_name', 'a.locale as account_locale'])
    .select((eb) => [
      eb.fn.coalesce('n.text', 'b.text').as('text'),
      sql<string | null>`case when n.text is null then b.html else n.html end`.as('html'),
      // only a platform's mail says why (our own says so in its words), and only users have a language
      // (an inherited holder is a user of the ancestor it is inherited from: recipientUserKey)
      sql<Record<string, Locale> | null>`case when n.kind = 'notification' then (
        select jsonb_object_agg(coalesce(r ->> 'userAccountId', '') || '/' || u.id, u.locale)
        from jsonb_array_elements(n.recipients) r
        join users u on u.account_id = coalesce(r ->> 'userAccountId', n.account_id) and u.id = r ->> 'userId'
        where u.locale is not null) end`.as('user_locales'),
    ])
    .where((eb) =>
      whereKeys(
        eb,
        keys.map((k) => ({ 'n.account_id': k.account_id, 'n.id': k.notification_id })),
      ),
    )
    .execute()
  // a text that is nowhere (its broadcast's row removed by hand) is left out: the worker then
  // fails the delivery as having nothing to send, instead of sending an empty mail
  return new Map(
    rows.flatMap((r) => (r.text === null ? [] : [[`${r.account_id}/${r.id}`, { ...r, text: r.text }] as const])),
  )
}

/** The event bodies of claimed webhook deliveries, and the endpoints they go to. */
export async function loadWebhookContent(
  db: Db,
  keys: { account_id: string; event_id: string; endpoint_id: string }[],
) {
  if (keys.length === 0)
    return { events: new Map<string, unknown>(), endpoints: new Map<string, { url: string; status: string }>() }
  const events = await db
    .selectFrom('events')
    .select(['account_id', 'id', 'payload'])
    .where((eb) =>
      whereKeys(
        eb,
        keys.map((k) => ({ account_id: k.account_id, id: k.event_id })),
      ),
    )
    .execute()
  const endpoints = await db
    .selectFrom('webhook_endpoints')
    .select(['id', 'url', 'status'])
    .where('id', '=', anyOf([...new Set(keys.map((k) => k.endpoint_id))]))
    .execute()
  return {
    events: new Map(events.map((e) => [`${e.account_id}/${e.id}`, e.payload])),
    endpoints: new Map(endpoints.map((e) => [e.id, { url: e.url, status: e.status }])),
  }
}

/**
 * Marks claimed deliveries delivered, those this worker still holds; answers which ones it marked.
 * One statement for a whole batch.
 */
export async function settleDelivered(
  db: Db,
  ds: { account_id: string; id: string }[],
  token: string,
): Promise<{ account_id: string; id: string }[]> {
  if (ds.length === 0) return []
  return db
    .updateTable('deliveries')
    .set({ status: 'delivered', delivered_at: sql`now()`, last_error: null, lock_token: null, updated_at: sql`now()` })
    .where((eb) =>
      whereKeys(
        eb,
        ds.map((d) => ({ account_id: d.account_id, id: d.id })),
      ),
    )
    .where('lock_token', '=', token)
    .returning(['account_id', 'id'])
    .execute()
}

/**
 * Records a failed attempt: retried with exponential backoff and jitter (computed in SQL, so
 * every worker follows the one schedule) while attempts remain and the failure may pass, else
 * `failed`. A retry of a broadcast's mail that was cancelled meanwhile (the cancel left it alone
 * while it was being sent) is `cancelled` instead. Returns the new status, or undefined when the
 * claim was lost.
 */
export async function settleFailed(
  db: Db,
  d: { account_id: string; id: string },
  token: string,
  f: { retryable: boolean; detail: string; retryAfterSeconds: number; backoffBaseSeconds: number },
): Promise<'retrying' | 'failed' | 'cancelled' | undefined> {
  const res = await sql<{ status: 'retrying' | 'failed' | 'cancelled' }>`
    update deliveries
    set status = case when not (${f.retryable} and attempts < max_attempts) then 'failed'
        when ${ofCancelledBroadcast('deliveries')} then 'cancelled'
        else 'retrying' end,
        -- base · 2^(attempt-1), ±25 % jitter so that a burst of failures does not retry in step,
        -- at least what the peer asked for (Retry-After), at most six hours (retry-policy.ts)
        next_attempt_at = case when ${f.retryable} and attempts < max_attempts
          then now() + make_interval(secs => least(${sql.lit(BACKOFF_MAX_SECONDS)}, greatest(${f.retryAfterSeconds}::float8,
            ${f.backoffBaseSeconds}::float8 * power(2, attempts - 1)
              * (${sql.lit(1 - BACKOFF_JITTER)} + random() * ${sql.lit(2 * BACKOFF_JITTER)}))))
          else next_attempt_at end,
        last_error = ${f.detail.slice(0, 500)}, lock_token = null, updated_at = now()
    where account_id = ${d.account_id} and id = ${d.id} and lock_token = ${token}
    returning status`.execute(db)
  return res.rows[0]?.status
}

/** The statuses of a delivery not yet settled: what the partial index `deliveries_due` holds. */
export const UNSETTLED_STATUSES = ['queued', 'sending', 'retrying'] as const

export interface OutboxBacklog {
  /** Unsettled deliveries by status and channel (combinations with none are absent). */
  counts: { status: (typeof UNSETTLED_STATUSES)[number]; channel: 'email' | 'webhook'; n: number }[]
  /** Seconds since the oldest due delivery became due (by the database's clock); 0 when none is due. */
  oldestDueSeconds: number
}

/**
 * The outbox's backlog, for the metrics, in one statement bounded by `timeoutMs` (a transaction's
 * own statement_timeout). The counts walk only unsettled rows (the predicate of `deliveries_due`),
 * so they cost in proportion to the backlog, never to the history of delivered and failed rows;
 * the oldest due one is a single probe at the low end of that index. A backlog too large to count
 * within the bound fails the statement instead of holding a connection for every scrape.
 */
export async function findOutboxBacklog(db: Db, opts: { timeoutMs: number }): Promise<OutboxBacklog> {
  type Row = {
    status: OutboxBacklog['counts'][number]['status']
    channel: 'email' | 'webhook'
    n: number
    oldest: number | null
  }
  const read = async (trx: Transaction<Database>) => {
    await sql`select set_config('statement_timeout', ${String(opts.timeoutMs)}, true)`.execute(trx)
    // The statuses are written out, not bound: the planner matches a partial index's predicate
    // against literals only. The oldest due one is read in index order (a single probe).
    const res = await sql<Row>`
      select status, channel, count(*)::int as n, (
        select extract(epoch from now() - next_attempt_at)::float8
        from deliveries
        where status in ('queued', 'sending', 'retrying') and next_attempt_at <= now()
        order by next_attempt_at
        limit 1
      ) as oldest
      from deliveries
      where status in ('queued', 'sending', 'retrying')
      group by status, channel`.execute(trx)
    return {
      counts: res.rows.map((r) => ({ status: r.status, channel: r.channel, n: r.n })),
      oldestDueSeconds: Math.max(0, res.rows[0]?.oldest ?? 0),
    }
  }
  return transaction(db, read, { readOnly: true })
}
