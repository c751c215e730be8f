import type { ColumnType } from 'kysely'

/** A row per (account, address) with a soft bounce: what lockAddresses (bounces.repository.ts) updates to make its reports take turns. */
export interface SoftBounceAddressesTable {
  account_id: string
  /** Lower case. */
  email: string
  reports: number
  /** When its last soft bounce came in: the retention chore deletes the row once that is past SOFT_BOUNCE_DAYS. */
  last_report_at: ColumnType<Date, Date | undefined, Date>
}
