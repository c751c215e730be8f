import { sql } from 'kysely'

import type { Db } from '../db/database.ts'
import type { Locale } from '../i18n/labels.ts'
import type { Recipient } from '../routing/recipients.repository.ts'
import type { CorrectionRequestRow, CorrectionRequestsTable } from './corrections.table.ts'

/** What a link's page and its request need to know of the mail it came in, in one read. */
export interface LinkContext {
  recipient: string
  delivered_at: Date | null
  created_at: Date
  notification_id: string | null
  subject: string
  category: string
  kind: 'notification' | 'system'
  /** The notification's recipient entry for this address (its slots), if it has one. */
  entry: Recipient | null
  account_name: string
  /** The recipient's language: the page's (a user's own, else the account's). */
  locale: Locale
  /** The account's language: its admins' mail, for those without one of their own. */
  account_locale: Locale
  /** Whether this delivery's link was used already. */
  used: boolean
}

export async function readLinkContext(db: Db, accountId: string, deliveryId: string): Promise<LinkContext | undefined> {
  const res = await sql<LinkContext>`
    select d.recipient, d.delivered_at, d.created_at, d.notification_id, n.subject, n.category, n.kind,
      e.entry, a.name as account_name, a.locale as account_locale,
      -- an inherited holder is a user of the ancestor it is inherited from (userAccountId)
      coalesce((select u.locale from users u
        where u.account_id = coalesce(e.entry ->> 'userAccountId', d.account_id) and u.id = e.entry ->> 'userId'), a.locale) as locale,
      exists (select 1 from correction_requests c where c.account_id = d.account_id and c.delivery_id = d.id) as used
    from deliveries d
    join notifications n on n.account_id = d.account_id and n.id = d.notification_id
    join accounts a on a.id = d.account_id
    left join lateral (
      select r as entry from jsonb_array_elements(n.recipients) r where lower(r ->> 'email') = lower(d.recipient) limit 1
    ) e on true
    where d.account_id = ${accountId} and d.id = ${deliveryId} and d.channel = 'email'`.execute(db)
  return res.rows[0]
}

/** How many requests the account received in the last `hours` hours. */
export async function countRecent(db: Db, accountId: string, hours: number): Promise<number> {
  const res = await sql<{ n: number }>`
    select count(*)::int as n from correction_requests
    where account_id = ${accountId} and created_at > now() - make_interval(hours => ${hours})`.execute(db)
  return res.rows[0]?.n ?? 0
}

type NewRequest = Omit<CorrectionRequestsTable, 'status' | 'created_at' | 'dismissed_at'>

/** Files the request; answers it, or undefined when this delivery's link was used already. */
export const insertRequest = (db: Db, r: NewRequest): Promise<CorrectionRequestRow | undefined> =>
  db
    .insertInto('correction_requests')
    .values(r)
    .onConflict((oc) => oc.columns(['account_id', 'delivery_id']).doNothing())
    .returningAll()
    .executeTakeFirst()

/** The account's requests, newest first; only the open ones unless `all`. */
export const listRequests = (db: Db, accountId: string, opts: { all: boolean; limit: number }) => {
  let q = db.selectFrom('correction_requests').selectAll().where('account_id', '=', accountId)
  if (!opts.all) q = q.where('status', '=', 'open')
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute()
}

/** Dismisses an open request; answers it, or undefined when there is no open request of that id. */
export const dismissRequest = (db: Db, accountId: string, id: string): Promise<CorrectionRequestRow | undefined> =>
  db
    .updateTable('correction_requests')
    .set({ status: 'dismissed', dismissed_at: sql<Date>`now()` })
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .where('status', '=', 'open')
    .returningAll()
    .executeTakeFirst()

export const findRequest = (db: Db, accountId: string, id: string) =>
  db
    .selectFrom('correction_requests')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('id', '=', id)
    .executeTakeFirst()
