import { type RawBuilder, sql } from 'kysely'

import type { Db } from '../db/database.ts'
import type { Write } from '../db/one-statement.ts'
import { type Recipient, resolveRecipientsSql } from '../routing/recipients.repository.ts'
import type { CategoryRule } from '../routing/routing-policy.ts'

export interface FanOut {
  category: string
  subject: string
  /** Null for a broadcast: its notifications read the text from the broadcast's row (stored once). */
  text: string | null
  html?: string | null | undefined
  isTest?: boolean
  actor: { type: string; id: string }
  requestId: string | null
  maxAttempts: number
}

export interface FannedOut {
  account_id: string
  id: string
  status: 'queued' | 'undeliverable'
  fallback: 'primary' | 'super_admins' | null
  recipients: Recipient[]
}

/**
 * Resolves the recipients of a set of accounts and writes, in one statement, one notification per
 * account and one email delivery per recipient: the outbox rows the workers pick up. Nothing is
 * sent here; whoever calls it commits these rows with the rest of their transaction.
 *
 * `notificationId` is the id of a single send, or SQL over `r.account_id` (`<broadcast>.<account>`
 * for a broadcast), so that a batch run twice inserts nothing the second time (ON CONFLICT).
 * Delivery ids are the notification's id plus a hash of the address: stable, so also idempotent.
 */
export async function fanOut(
  db: Db,
  accounts: RawBuilder<unknown>,
  rule: CategoryRule,
  notificationId: string | RawBuilder<string>,
  n: FanOut & { broadcastId?: string | null },
): Promise<FannedOut[]> {
  const result = await sql<FannedOut>`
    ${fanOutWrites(accounts, rule, notificationId, n)}
    select account_id, id, status, fallback, recipients from inserted`.execute(db)
  return result.rows
}

/**
 * `fanOut` for a broadcast's batch, which needs only how many notifications it wrote of each
 * status: sending back thousands of recipient lists to count them cost a tenth of the batch's time.
 */
export async function fanOutCounts(
  db: Db,
  accounts: RawBuilder<unknown>,
  rule: CategoryRule,
  notificationId: RawBuilder<string>,
  n: FanOut & { broadcastId: string },
): Promise<{ queued: number; undeliverable: number }> {
  const result = await sql<{ queued: number; undeliverable: number }>`
    ${fanOutWrites(accounts, rule, notificationId, n)}
    select count(*) filter (where status = 'queued')::int as queued,
      count(*) filter (where status = 'undeliverable')::int as undeliverable
    from inserted`.execute(db)
  return result.rows[0]!
}

/** The `with` clauses both run: resolve, insert the notifications (`inserted`), insert their deliveries. */
function fanOutWrites(
  accounts: RawBuilder<unknown>,
  rule: CategoryRule,
  notificationId: string | RawBuilder<string>,
  n: FanOut & { broadcastId?: string | null },
) {
  return sql`
    with resolved as (${resolveRecipientsSql(accounts, rule)}),
    inserted as (
      insert into notifications
        (account_id, id, category, subject, text, html, is_test, fallback, status, recipients, broadcast_id, actor_type, actor_id, request_id)
      select r.account_id, ${notificationId}, ${n.category}, ${n.subject}, ${n.text}, ${n.html ?? null}, ${n.isTest ?? false},
        r.fallback, case when jsonb_array_length(r.recipients) = 0 then 'undeliverable' else 'queued' end,
        r.recipients, ${n.broadcastId ?? null}, ${n.actor.type}, ${n.actor.id}, ${n.requestId}
      from resolved r
      on conflict (account_id, id) do nothing
      returning account_id, id, status, fallback, recipients
    ),
    queued as (
      insert into deliveries (account_id, id, channel, notification_id, recipient, recipient_name, max_attempts)
      select i.account_id, i.id || '.' || left(md5(lower(x->>'email')), 16), 'email', i.id, x->>'email', x->>'name', ${n.maxAttempts}
      from inserted i, jsonb_array_elements(i.recipients) x
      returning 1
    )`
}

/** One of our own mails (verification, contact changed, vacated slots) to named addresses. */
export interface SystemMailRow {
  accountId: string
  id: string
  category: string
  subject: string
  text: string
  html: string
  to: Recipient[]
  maxAttempts: number
  requestId: string | null
  actor: { type: string; id: string }
}

/**
 * Our own mails as outbox rows: one notification of kind `system` each and a delivery per
 * address (`<notification>.<n>`), as two inserts that read nothing of each other, for the
 * caller to run as one statement of its transaction (db/one-statement.ts), where the deliveries'
 * foreign key to their notifications is checked once both are in. Lists go as arrays, so the
 * text is the same for any number of mails and addresses.
 */
export function systemMailInserts(mails: SystemMailRow[]): Write[] {
  const col = <T>(f: (m: SystemMailRow) => T) => mails.map(f)
  const to = mails.flatMap((m) => m.to.map((r, i) => ({ m, r, id: `${m.id}.${i}` })))
  return [
    sql`
      insert into notifications (account_id, id, category, subject, text, html, kind, fallback, status, recipients, broadcast_id, actor_type, actor_id, request_id)
      select a, i, c, s, t, h, 'system', null, st, r::jsonb, null, at, ai, ri
      from unnest(${col((m) => m.accountId)}::text[], ${col((m) => m.id)}::text[], ${col((m) => m.category)}::text[],
        ${col((m) => m.subject)}::text[], ${col((m) => m.text)}::text[], ${col((m) => m.html)}::text[],
        ${col((m) => (m.to.length > 0 ? 'queued' : 'undeliverable'))}::text[], ${col((m) => JSON.stringify(m.to))}::text[],
        ${col((m) => m.actor.type)}::text[], ${col((m) => m.actor.id)}::text[], ${col((m) => m.requestId)}::text[])
        as x(a, i, c, s, t, h, st, r, at, ai, ri)`,
    sql`
      insert into deliveries (account_id, id, channel, notification_id, recipient, recipient_name, max_attempts)
      select a, i, 'email', n, e, nm, ma
      from unnest(${to.map((d) => d.m.accountId)}::text[], ${to.map((d) => d.id)}::text[], ${to.map((d) => d.m.id)}::text[],
        ${to.map((d) => d.r.email)}::text[], ${to.map((d) => d.r.name)}::text[], ${to.map((d) => d.m.maxAttempts)}::int[])
        as x(a, i, n, e, nm, ma)`,
  ]
}
