import { type RawBuilder, sql } from 'kysely'

import type { Db } from '../db/database.ts'
import type { CategoryRule } from './routing-policy.ts'

/** Who receives a category in one account, and why (docs/PRODUCT.md, "Routing: who receives what"). */
export interface Recipient {
  email: string
  name: string | null
  userId: string | null
  /** The slots that made them a recipient, or `super_admin` when the last fallback chose them. */
  slots: string[]
  /** Added after a bounce: the address this recipient was sent the notification in place of. */
  fallbackFor?: string
}

export interface ResolvedAccount {
  account_id: string
  recipients: Recipient[]
  fallback: 'primary' | 'super_admins' | null
}

/**
 * The routing rules as one SQL query over a set of accounts: the category's slots, else its
 * fallback slots, else the account's active super admins; outside addresses only once verified;
 * never an address on the account's suppression list;
 * one row per address (compared without case) with every slot that chose it. `accounts` is a
 * query yielding `id`s: one account for a send or preview, a batch of thousands for a broadcast,
 * which is why this lives in SQL and not in a loop in Node.
 */
export function resolveRecipientsSql(accounts: RawBuilder<unknown>, rule: CategoryRule): RawBuilder<ResolvedAccount> {
  const to = sql.val(rule.to)
  const fallback = sql.val(rule.fallback ?? [])
  return sql<ResolvedAccount>`
    with accts as (${accounts}),
    holders as (
      select s.account_id, s.slot, coalesce(u.email, s.email) as email, u.name, s.user_id
      from contact_slots s
      left join users u on u.account_id = s.account_id and u.id = s.user_id
      where s.account_id in (select id from accts)
        -- only the slots this rule can choose: the others would be read and thrown away
        and s.slot = any(${to}::text[] || ${fallback}::text[])
        -- a pending outside address receives nothing but its verification mail
        and (s.user_id is not null or s.verification = 'verified')
        -- nor does a suppressed one (a bounce or a complaint): the rule then looks further
        and not exists (select 1 from suppressions x
          where x.account_id = s.account_id and x.email = lower(coalesce(u.email, s.email)))
    ),
    own as (
      select h.*, null::text as fallback from holders h where h.slot = any(${to}::text[])
    ),
    fallback_slots as (
      select h.*, 'primary'::text as fallback from holders h
      where h.slot = any(${fallback}::text[])
        and not exists (select 1 from own o where o.account_id = h.account_id)
    ),
    super_admins as (
      select u.account_id, 'super_admin'::text as slot, u.email, u.name, u.id as user_id, 'super_admins'::text as fallback
      -- only the accounts nobody else was chosen in are looked up (usually none)
      from (
        select id from accts a
        where not exists (select 1 from own o where o.account_id = a.id)
          and not exists (select 1 from fallback_slots f where f.account_id = a.id)
      ) a
      join users u on u.account_id = a.id
      where u.role = 'super_admin' and u.status = 'active'
        and not exists (select 1 from suppressions x where x.account_id = u.account_id and x.email = lower(u.email))
    ),
    chosen as (
      select * from own union all select * from fallback_slots union all select * from super_admins
    ),
    per_address as (
      select account_id, lower(email) as address, min(email) as email, min(name) as name, min(user_id) as user_id,
        array_agg(distinct slot) as slots, min(fallback) as fallback
      from chosen
      group by account_id, lower(email)
    )
    select a.id as account_id,
      coalesce(
        jsonb_agg(
          jsonb_build_object('email', p.email, 'name', p.name, 'userId', p.user_id, 'slots', to_jsonb(p.slots))
          order by p.address
        ) filter (where p.address is not null),
        '[]'::jsonb
      ) as recipients,
      min(p.fallback) as fallback
    from accts a
    left join per_address p on p.account_id = a.id
    group by a.id`
}

/** The `accounts` query for a single account. */
export const oneAccount = (accountId: string) => sql`select id from accounts where id = ${accountId}`

/** Who would receive mail of `rule` in one account now, and why; undefined for an unknown account. */
export async function resolveRecipientsOf(
  db: Db,
  accountId: string,
  rule: CategoryRule,
): Promise<ResolvedAccount | undefined> {
  const res = await resolveRecipientsSql(oneAccount(accountId), rule).execute(db)
  return res.rows[0]
}
