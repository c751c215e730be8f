import type { ColumnType } from 'kysely'

/**
 * An address a mail server refused for good (SMTP 5.1.x/5.2.x), per account: written when a
 * delivery settles, cleared when a mail to it goes through again, shown in the account's health.
 */
export interface UndeliverableAddressesTable {
  account_id: string
  /** Lower case. */
  email: string
  reason: string
  at: ColumnType<Date, Date | undefined, Date>
}
