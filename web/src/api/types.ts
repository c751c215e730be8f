/**
 * The page's view of the API, as types taken from the server's own schemas: nothing here is a
 * hand-kept copy of a response shape, so the page cannot drift from what the server sends.
 */
import type { Static } from '@sinclair/typebox'

import type { Account } from '../../../src/accounts/accounts.schemas.ts'
import type { AuditEventPageSchema } from '../../../src/audit/audit.schemas.ts'
import type { Contact } from '../../../src/contacts/contacts.schemas.ts'
import type { CorrectionRequestListSchema } from '../../../src/corrections/corrections.schemas.ts'
import type { EmlFileSummary } from '../../../src/delivery/transports/eml.transport.ts'
import type {
  Notification,
  NotificationPageSchema,
  RecipientsPreviewSchema,
  SentNotification,
} from '../../../src/notifications/notifications.schemas.ts'
import type { User, UserPageSchema } from '../../../src/users/users.schemas.ts'

export type { AccountHealth, DescendantHealth } from '../../../src/account-health/account-health.schemas.ts'
export type { Account } from '../../../src/accounts/accounts.schemas.ts'
export type { AuditEvent } from '../../../src/audit/audit.schemas.ts'
export type { SingleSlot, SlotName } from '../../../src/contacts/contact-slots.ts'
export type { Contact, ContactSheet, SlotInput, UserContact } from '../../../src/contacts/contacts.schemas.ts'
export type { SlotRule } from '../../../src/contacts/slot-rules.ts'
export type { SendableCategory } from '../../../src/routing/routing-policy.ts'
export type { Notification, SentNotification, User }

export type UserPage = Static<typeof UserPageSchema>
export type AuditEventPage = Static<typeof AuditEventPageSchema>
export type RecipientsPreview = Static<typeof RecipientsPreviewSchema>
export type Recipient = RecipientsPreview['recipients'][number]

/** What a recipient said through a mail's "Not the right person?" link (docs/CORRECTIONS.md). */
export type CorrectionRequestList = Static<typeof CorrectionRequestListSchema>
export type CorrectionRequest = CorrectionRequestList['data'][number]

export type NotificationPage = Static<typeof NotificationPageSchema>
export type Delivery = Notification['deliveries'][number]
export type NotificationRecipient = Notification['recipients'][number]
/** Why mail to a contact's address does not arrive: it is on the account's suppression list. */
export type Undeliverable = NonNullable<Contact['undeliverable']>

/**
 * `GET /ui/session` (src/ui/ui.routes.ts). That route declares no response schema, so the shape
 * is assembled here from the fields it copies out of the user and the account.
 */
export interface PageSession {
  accountId: Account['id']
  accountName: Account['name']
  userId: User['id']
  name: User['name']
  email: User['email']
  role: User['role']
  locale: Account['locale']
  demoMail: boolean
}

/** `GET /ui/demo-mail`: the `.eml` files written instead of sending, newest first. */
export interface DemoMailList {
  data: EmlFileSummary[]
}
