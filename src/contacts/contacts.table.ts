import type { ColumnType } from 'kysely'

import type { SlotName } from './contact-slots.ts'

/** One holder of one slot: a user (`user_id`) or, in `security` only, an outside address (`email`). */
export interface ContactSlotsTable {
  account_id: string
  slot: SlotName
  position: number
  user_id: string | null
  user_status: 'active' | null
  email: string | null
  verification: 'pending' | 'verified' | null
  assigned_at: ColumnType<Date, Date | undefined, Date>
}
