/**
 * The catalogue of audit actions. `before` and `after` hold the changed object's API shape (a sheet,
 * a user, an account) or null where it did not exist.
 */
export const AUDIT_ACTIONS = [
  'account.created',
  'account.updated',
  'account.deleted',
  'user.created',
  'user.updated',
  'user.deactivated',
  'user.reactivated',
  'contacts.updated',
  'contacts.vacated',
  'contacts.reviewed',
  'contacts.undeliverable',
  'contacts.correction_requested',
  'contacts.correction_dismissed',
  'suppression.cleared',
  'notification.resent',
  'session.created',
] as const
export type AuditAction = (typeof AUDIT_ACTIONS)[number]

export interface AuditEntry {
  accountId: string
  action: AuditAction
  before: unknown
  after: unknown
}
