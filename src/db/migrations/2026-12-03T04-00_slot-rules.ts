import { sql, type Kysely } from 'kysely'

/*
 * Frozen in time. Per slot, how a child account's holders compose with its parent's (issue 16,
 * docs/PRODUCT.md "Parent and child accounts"): `add`, `replace` or `none`, in accounts.slot_rules;
 * a slot not in it is `inherit`, the default, so a flat account's is `{}`. A column of the account
 * and not a table: the sheet's writes read the account row under its lock anyway, and the routing's
 * walk up the chain reads each ancestor's row; a table would be one more read for both.
 *
 * The check keeps out any other key or value (a typo would silently mean `inherit`).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    create function valid_slot_rules(rules jsonb) returns boolean language sql immutable as $$
      select jsonb_typeof(rules) = 'object' and not exists (
        select 1 from jsonb_each(rules) as r(slot, rule)
        where r.slot not in ('primary', 'billing', 'decisionMaker', 'onboarding', 'security', 'technicalAdmin')
          or r.rule not in ('"add"', '"replace"', '"none"'))
    $$`.execute(db)
  await sql`alter table accounts add column slot_rules jsonb not null default '{}' check (valid_slot_rules(slot_rules))`.execute(
    db,
  )
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table accounts drop column slot_rules`.execute(db)
  await sql`drop function valid_slot_rules(jsonb)`.execute(db)
}
