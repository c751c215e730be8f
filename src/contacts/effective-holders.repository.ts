import { type RawBuilder, sql } from 'kysely'

import { ANCESTOR_DISTANCES } from '../accounts/account-tree.ts'
import { descendantsCte } from '../accounts/accounts.repository.ts'
import type { Db } from '../db/database.ts'
import { SLOT_NAMES } from './contact-slots.ts'
import type { SlotRule } from './slot-rules.ts'

/** A row of `effective_holders`: one holder of one slot of one account, wherever in the chain it is held. */
interface EffectiveHolder {
  account_id: string
  slot: string
  position: number
  user_id: string | null
  /** The user's current address, or the outside address. */
  email: string
  name: string | null
  verification: 'pending' | 'verified' | null
  /** The account that holds the slot: `account_id` itself, or the ancestor it is inherited from. */
  source_account_id: string
  /** The account's own rule for the slot (the one the page shows beside it). */
  rule: SlotRule
  /** How many levels up the source is: 0 for the account's own holders. */
  distance: number
}

/**
 * The common table expressions `chain0`…`chain4`, `chain`, `steps`, `walked` and
 * `effective_holders`, to follow a `with recursive` that defines `accts` (a set of account `id`s)
 * (nothing in them is recursive now, but callers may be): for every account of `accts` and every
 * slot of `slots`, who holds it once the rules of slot-rules.ts are applied up the account's chain
 * of parents. This is the one place the rules are applied; routing (routing/recipients.repository.ts)
 * and the sheet's read both use it.
 *
 * Up the chain from the account (distance 0) to its root, each step is an ancestor with its own
 * rule for the slot and whether it holds the slot itself. A step's holders count unless its rule
 * is `none`, as long as no nearer step has stopped the walk: `replace` and `none` stop it, and so
 * does `inherit` at a step that holds the slot; `add` and an empty `inherit` go on up. That is the
 * rules' recursion (an account's effective holders are its own and/or its parent's effective
 * ones) unrolled, so that one statement answers it for a broadcast's thousands of accounts.
 *
 * "Holds" counts every holder, also an outside address still waiting for verification and an
 * address on the suppression list: an account that set its own contact has one, and when that one
 * cannot receive, the routing's usual fallback applies, as in an account without a parent.
 */
export function effectiveHoldersCtes(slots: readonly string[]): RawBuilder<unknown> {
  // one step up per level, each a CTE of its own, rather than a recursive walk: the planner
  // estimates a recursion at ten times its first step (62,000 chain rows for a batch of 2,000
  // accounts in trees, 5,000 in fact), and a statement costed that high is compiled by JIT, which
  // took 3 s of a 0.4 s batch; a level joined to the one below is estimated from its rows.
  // Every lookup of an ancestor's row and of a step's slot rows is a LATERAL key probe: as plain
  // joins, in trees, where most accounts have a parent, the planner hashed all of accounts (four
  // times) and all of contact_slots for a batch of 2,000 accounts, growing with the tables: EXPLAIN
  // ANALYZE of such a batch at 100,000 accounts took 430 ms with the joins, 190 ms with the probes.
  // The `limit 1` (the key is unique) and `offset 0` keep the planner from flattening a probe back
  // into a join
  const levels = ANCESTOR_DISTANCES
  const up = levels.map(
    (d) => sql`
    ${sql.id(`chain${d}`)} as (
      select c.account_id, p.parent_account_id as ancestor_id, ${sql.lit(d)} as distance
      from ${sql.id(`chain${d - 1}`)} c
      cross join lateral (
        select a.parent_account_id from accounts a where a.id = c.ancestor_id and a.parent_account_id is not null limit 1
      ) p
    ),`,
  )
  return sql`
    chain0 (account_id, ancestor_id, distance) as (select id, id, 0 from accts),
    ${sql.join(up, sql``)}
    chain as (
      select * from chain0
      ${sql.join(
        levels.map((d) => sql`union all select * from ${sql.id(`chain${d}`)}`),
        sql` `,
      )}
    ),
    steps as (
      select c.account_id, c.ancestor_id, c.distance, w.slot,
        coalesce(a.slot_rules ->> w.slot, 'inherit') as rule,
        h.holds is not null as holds
      from chain c
      cross join lateral (select a.slot_rules from accounts a where a.id = c.ancestor_id limit 1) a
      -- the slots written into the text, not a parameter: as a parameter, the planner costs a
      -- generic plan for 10 slots and keeps planning the statement anew at every call
      cross join unnest(array[${sql.join(slots.map((s) => sql.lit(s)))}]::text[]) as w (slot)
      -- a probe of the (account, slot) index per step: as an EXISTS, the planner, which expects
      -- ten times the chain's real length from the recursion, hashed the whole of contact_slots
      -- instead (a sequential scan of the table for every read and every broadcast batch)
      left join lateral (
        select true as holds from contact_slots s where s.account_id = c.ancestor_id and s.slot = w.slot limit 1
      ) h on true
    ),
    walked as (
      select st.*,
        coalesce(bool_or(st.rule in ('replace', 'none') or (st.rule = 'inherit' and st.holds)) over (
          partition by st.account_id, st.slot order by st.distance
          rows between unbounded preceding and 1 preceding), false) as stopped,
        first_value(st.rule) over (partition by st.account_id, st.slot order by st.distance) as own_rule
      from steps st
    ),
    effective_holders as (
      select w.account_id, s.slot, s.position, s.user_id, coalesce(u.email, s.email) as email, u.name,
        s.verification, w.ancestor_id as source_account_id, w.own_rule as rule, w.distance
      from walked w
      cross join lateral (
        select * from contact_slots s where s.account_id = w.ancestor_id and s.slot = w.slot offset 0
      ) s
      left join users u on u.account_id = s.account_id and u.id = s.user_id
      where not w.stopped and w.rule <> 'none'
    )`
}

/** A holder an account inherits: what the sheet's `inherited` shows of it (sheet.ts inheritedOf). */
export type InheritedHolder = Pick<
  EffectiveHolder,
  'slot' | 'position' | 'user_id' | 'email' | 'name' | 'source_account_id' | 'distance'
> & { source_account_name: string }

/**
 * The select of the inherited holders (distance > 0) of `effective_holders`, nearest ancestor
 * first, each with the name of the account that holds the slot; after effectiveHoldersCtes.
 */
export const inheritedHoldersSelect = sql`
    -- a lookup by key per holder: as a join, the same overestimate made it a scan of every account
    select h.slot, h.position, h.user_id, h.email, h.name, h.source_account_id,
      (select a.name from accounts a where a.id = h.source_account_id) as source_account_name, h.distance
    from effective_holders h
    where h.distance > 0`

/**
 * The holders an account inherits from its ancestors, in the transaction of a write that changed
 * its sheet (the read of the sheet gets them with its own holders: contacts.repository.ts).
 */
export async function listInheritedHolders(db: Db, accountId: string): Promise<InheritedHolder[]> {
  const res = await sql<InheritedHolder>`
    with recursive accts as (select ${accountId}::text as id),
    ${effectiveHoldersCtes(SLOT_NAMES)}
    ${inheritedHoldersSelect}
    order by slot, distance, position`.execute(db)
  return res.rows
}

/**
 * The descendants of `accountId` whose mail of any of `slots` reaches up to it: the accounts whose
 * effective holders of those slots a change at `accountId` may change (nearer accounts that hold
 * the slot themselves, or replace it, or say none, stop the walk before it). In id order.
 */
export async function listInheritingDescendants(
  db: Db,
  accountId: string,
  slots: readonly string[],
): Promise<string[]> {
  if (slots.length === 0) return []
  const res = await sql<{ account_id: string }>`
    with recursive ${descendantsCte(accountId)},
    accts as (select id from descendants),
    ${effectiveHoldersCtes(slots)}
    select distinct account_id from walked
    where ancestor_id = ${accountId} and not stopped
    order by account_id`.execute(db)
  return res.rows.map((r) => r.account_id)
}
