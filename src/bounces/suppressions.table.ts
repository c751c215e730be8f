import type { ColumnType } from 'kysely'

import type { MailEventSource } from './mail-event.ts'

/** What put an address on the list: a refusal or bounce for good, repeated soft bounces, or a complaint. */
export type SuppressionKind = 'hard_bounce' | 'soft_bounce' | 'complaint'

/**
 * An account's suppression list (docs/BOUNCES.md): an address here gets none of the account's
 * mail (the routing skips it, so the category's fallback is chosen instead) until an admin
 * clears it or gives the slot to someone else. Written in the transaction that takes a bounce.
 */
export interface SuppressionsTable {
  account_id: string
  /** Lower case. */
  email: string
  /** The server's or the provider's reason, one line. */
  reason: string
  at: ColumnType<Date, Date | undefined, Date>
  kind: ColumnType<SuppressionKind, SuppressionKind | undefined, SuppressionKind>
  source: ColumnType<MailEventSource, MailEventSource | undefined, MailEventSource>
  /** The delivery whose bounce put it here. */
  delivery_id: string | null
}
