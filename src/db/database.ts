import type { Kysely } from 'kysely'

import type { AccountsTable } from '../accounts/accounts.table.ts'
import type { AuditEventsTable } from '../audit/audit.table.ts'
import type { ApiKeysTable } from '../auth/api-keys/api-keys.table.ts'
import type { SessionsTable } from '../auth/sessions/sessions.table.ts'
import type { MailEventsTable } from '../bounces/mail-events.table.ts'
import type { SoftBounceAddressesTable } from '../bounces/soft-bounce-addresses.table.ts'
import type { SuppressionsTable } from '../bounces/suppressions.table.ts'
import type { BroadcastsTable } from '../broadcasts/broadcasts.table.ts'
import type { ContactSlotsTable } from '../contacts/contacts.table.ts'
import type { CorrectionRequestsTable } from '../corrections/corrections.table.ts'
import type { DeliveriesTable } from '../delivery/deliveries.table.ts'
import type { IdempotencyKeysTable } from '../idempotency/idempotency.table.ts'
import type { NotificationsTable } from '../notifications/notifications.table.ts'
import type { UsersTable } from '../users/users.table.ts'
import type { EmailVerificationsTable, VerificationMailLimitsTable } from '../verification/verification.table.ts'
import type { EventsTable, WebhookEndpointsTable } from '../webhooks/webhooks.table.ts'

/** Every table, as Kysely sees it. Each domain folder owns its `*.table.ts`. */
export interface Database {
  accounts: AccountsTable
  users: UsersTable
  contact_slots: ContactSlotsTable
  audit_events: AuditEventsTable
  api_keys: ApiKeysTable
  sessions: SessionsTable
  notifications: NotificationsTable
  deliveries: DeliveriesTable
  events: EventsTable
  webhook_endpoints: WebhookEndpointsTable
  suppressions: SuppressionsTable
  mail_events: MailEventsTable
  soft_bounce_addresses: SoftBounceAddressesTable
  idempotency_keys: IdempotencyKeysTable
  email_verifications: EmailVerificationsTable
  verification_mail_limits: VerificationMailLimitsTable
  broadcasts: BroadcastsTable
  correction_requests: CorrectionRequestsTable
}

/**
 * What repositories and services take: the database, or a transaction (a Kysely `Transaction` is
 * a `Kysely` too), so the same function runs inside or outside one.
 */
export type Db = Kysely<Database>
