import type { ColumnType, Selectable } from 'kysely'

import type { CorrectionReason } from '../i18n/correction-text.ts'

/**
 * What a recipient said through a mail's "Not the right person?" link (docs/CORRECTIONS.md): one
 * per delivery, for the account's admins to act on. It changes no contact; an admin does, then
 * dismisses it.
 */
export interface CorrectionRequestsTable {
  account_id: string
  id: string
  delivery_id: string
  notification_id: string | null
  category: string
  subject: string
  /** The address the mail came to, as it was sent. */
  email: string
  /** The slots that chose it for that mail (or `super_admin`). */
  slots: string[]
  reason: CorrectionReason
  suggested_email: string | null
  note: string | null
  status: ColumnType<'open' | 'dismissed', never, 'dismissed'>
  created_at: ColumnType<Date, never, never>
  dismissed_at: ColumnType<Date | null, never, Date>
}
export type CorrectionRequestRow = Selectable<CorrectionRequestsTable>
