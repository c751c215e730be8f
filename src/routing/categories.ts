// No imports: the settings page bundles this file too.

/** The categories a platform can send (docs/PRODUCT.md, "Routing: who receives what"). `contact_changed` is system mail only. */
export const SENDABLE_CATEGORIES = [
  'invoice',
  'receipt',
  'subscription',
  'renewal',
  'account_update',
  'security',
  'onboarding',
  'technical',
  'commercial',
  'contacts_review',
] as const
export type SendableCategory = (typeof SENDABLE_CATEGORIES)[number]

/**
 * The categories of the mail the service queues itself (mail/queue-system-mail.ts), which no
 * platform can send: a previous holder told of a change, super admins told of vacated slots or of a
 * contact whose mail bounced or of a recipient who says they are the wrong one, an outside address
 * asked to verify itself.
 */
export const SYSTEM_CATEGORIES = [
  'contact_changed',
  'slots_vacated',
  'verify_email',
  'contact_undeliverable',
  'correction_requested',
] as const
export type SystemCategory = (typeof SYSTEM_CATEGORIES)[number]
