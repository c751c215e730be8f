import type { ColumnType, Generated, Insertable, Selectable } from 'kysely'

import type { StoredSlotRules } from '../contacts/slot-rules.ts'

export interface AccountsTable {
  id: string
  name: string
  locale: 'en' | 'fi'
  allowed_email_domains: string[] | null
  /** The account whose contacts this one inherits (issue 16); the database refuses cycles and trees over five levels. */
  parent_account_id: ColumnType<string | null, string | null | undefined, string | null>
  /** Each slot's rule other than `inherit` (contacts/slot-rules.ts); `{}` for most accounts. */
  slot_rules: ColumnType<StoredSlotRules, StoredSlotRules | undefined, StoredSlotRules>
  contacts_version: Generated<number>
  contacts_reviewed_at: Date | null
  /** When the last `contacts_review` reminder was queued (at most one per 30 days). */
  review_reminded_at: ColumnType<Date | null, Date | null | undefined, Date | null>
  created_at: ColumnType<Date, never, never>
  updated_at: ColumnType<Date, never, Date>
}

export type AccountRow = Selectable<AccountsTable>
export type NewAccountRow = Insertable<AccountsTable>
