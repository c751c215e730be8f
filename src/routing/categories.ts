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
