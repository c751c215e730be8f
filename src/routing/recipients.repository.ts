import { type RawBuilder, sql } from 'kysely'

import { effectiveHoldersCtes } from '../contacts/effective-holders.repository.ts'
import type { SlotRule } from '../contacts/slot-rules.ts'
import type { Db } from '../db/database.ts'
import type { CategoryRule } from './routing-policy.ts'

/** Who receives a category in one account, and why (docs/PRODUCT.md, "Routing: who receives what"). */
export interface Recipient {
  email: string
  name: string | null
  userId: string | null
  /** The account `userId` is a user of, when not this one (an inherited holder's): user ids are per account. */
  userAccountId?: string
  /** The slots that made them a recipient, or `super_admin` when the last fallback chose them. */
  slots: string[]
  /** Added after a bounce: the address this recipient was sent the notification in place of. */
  fallbackFor?: string
  /** The slots this recipient holds in an ancestor account, not in this one (absent: none). */
  inherited?: InheritedVia[]
}

/** A slot that chose a recipient through the account's chain of parents (contacts/slot-rules.ts). */
export interface InheritedVia {
  slot: string
  /** The ancestor account that holds the slot, and its name (the mail's "why" line names it). */
  fromAccountId: string
  fromAccountName: string
  /** This account's rule for the slot. */
  rule: SlotRule
}

export interface ResolvedAccount {
  account_id: string
  recipients: Recipient[]
  fallback: 'primary' | 'super_admins' | null
}

/**
 * The routing rules as one SQL query over a set of accounts: the category's slots, else its
 * fallback slots, else the account's active super admins; each slot's holders as the account's
 * chain of parents and its rules give them (contacts/effective-holders.repository.ts); outside addresses only once verified;
 * never an address on the account's suppression list;
 * one row per address (compared without case) with every slot that chose it. `accounts` is a
 * query yielding `id`s: one account for a send or preview, a batch of thousands for a broadcast,
 * which is why this lives in SQL and not in a loop in Node.
 */
export function resolveRecipientsSql(accounts: RawBuilder<unknown>, rule: CategoryRule): RawBuilder<ResolvedAccount> {
  const to = sql.val(rule.to)
  const fallback = sql.val(rule.fallback ?? [])
  return sql<ResolvedAccount>`
    with recursive accts as (${accounts}),
    -- only the slots this rule can choose: the others would be read and thrown away
    ${effectiveHoldersCtes([...rule.to, ...(rule.fallback ?? [])])},
    holders as (
      select h.account_id, h.slot, h.email, h.name, h.user_id,
        nullif(h.source_account_id, h.account_id) as from_account_id,
        case when h.source_account_id <> h.account_id
          then (select a.name from accounts a where a.id = h.source_account_id) end as from_account_name,
        h.rule
      from effective_holders h
      -- a pending outside address receives nothing but its verification mail
      where (h.user_id is not null or h.verification = 'verified')
        -- nor does a suppressed one (a bounce or a complaint), on the list of the account the mail
        -- is for or of the one the holder is inherited from: the rule then looks further
        and not exists (select 1 from suppressions x where x.account_id = h.account_id and x.email = lower(h.email))
        and not exists (select 1 from suppressions x
          where x.account_id = h.source_account_id and x.email = lower(h.email))
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
      select u.account_id, 'super_admin'::text as slot, u.email, u.name, u.id as user_id,
        null::text as from_account_id, null::text as from_account_name, null::text as rule,
        'super_admins'::text as fallback
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
      select account_id, lower(email) as address, min(email) as email, min(name) as name,
        -- the user and the account it is a user of, in the same order: the account's own before an ancestor's
        (array_agg(user_id order by from_account_id nulls first, user_id) filter (where user_id is not null))[1] as user_id,
        (array_agg(coalesce(from_account_id, account_id) order by from_account_id nulls first, user_id)
          filter (where user_id is not null))[1] as user_account_id,
        array_agg(distinct slot) as slots, min(fallback) as fallback,
        jsonb_agg(jsonb_build_object(
          'slot', slot, 'fromAccountId', from_account_id, 'fromAccountName', from_account_name, 'rule', rule
        ) order by slot)
          filter (where from_account_id is not null) as inherited
      from chosen
      group by account_id, lower(email)
    )
    select a.id as account_id,
      coalesce(
        jsonb_agg(
          jsonb_build_object('email', p.email, 'name', p.name, 'userId', p.user_id, 'slots', to_jsonb(p.slots))
            || case when p.user_account_id <> p.account_id then jsonb_build_object('userAccountId', p.user_account_id)
              else '{}'::jsonb end
            || case when p.inherited is null then '{}'::jsonb else jsonb_build_object('inherited', p.inherited) end
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

/**
 * `resolveRecipientsOf` for several categories of one account in one statement (the settings
 * page's "who receives what" reads every category at once): one row a category, in `rules`'
 * order; none for an unknown account.
 */
export async function resolveRecipientsByCategory(
  db: Db,
  accountId: string,
  rules: readonly (readonly [category: string, rule: CategoryRule])[],
): Promise<(ResolvedAccount & { category: string })[]> {
  const parts = rules.map(
    ([category, rule], i) =>
      sql`(select ${category}::text as category, ${i}::int as ord, r.* from (${resolveRecipientsSql(oneAccount(accountId), rule)}) r)`,
  )
  const res = await sql<
    ResolvedAccount & { category: string }
  >`${sql.join(parts, sql` union all `)} order by ord`.execute(db)
  return res.rows
}
