import { AccountHealthSchema } from '../account-health/account-health.schemas.ts'
import { AccountSchema } from '../accounts/accounts.schemas.ts'
import { AuditEventSchema } from '../audit/audit.schemas.ts'
import { SessionSchema } from '../auth/sessions/sessions.schemas.ts'
import { SuppressionSchema } from '../bounces/suppressions.schemas.ts'
import { BroadcastSchema } from '../broadcasts/broadcasts.schemas.ts'
import {
  ContactSchema,
  ContactSheetSchema,
  EmailRefSchema,
  SlotInputSchema,
  SlotRuleSchema,
  UserRefSchema,
} from '../contacts/contacts.schemas.ts'
import { CorrectionRequestSchema } from '../corrections/corrections.schemas.ts'
import { ProblemSchema } from '../lib/schemas.ts'
import {
  CategorySchema,
  DeliverySchema,
  NotificationSchema,
  RecipientSchema,
  RecipientsPreviewSchema,
  RoutingPreviewSchema,
  SentNotificationSchema,
} from '../notifications/notifications.schemas.ts'
import { UserSchema } from '../users/users.schemas.ts'
import { CreatedWebhookEndpointSchema, WebhookEndpointSchema } from '../webhooks/webhook-endpoints.schemas.ts'

/**
 * The named schemas: registered once with Fastify (serialisation, OpenAPI components) and with the
 * validators, and referenced by `Type.Ref` everywhere else.
 */
export const SHARED_SCHEMAS = [
  ProblemSchema,
  AccountSchema,
  UserSchema,
  ContactSchema,
  ContactSheetSchema,
  SlotRuleSchema,
  UserRefSchema,
  EmailRefSchema,
  SlotInputSchema,
  AuditEventSchema,
  AccountHealthSchema,
  SessionSchema,
  SuppressionSchema,
  CorrectionRequestSchema,
  CategorySchema,
  RecipientSchema,
  RecipientsPreviewSchema,
  RoutingPreviewSchema,
  SentNotificationSchema,
  DeliverySchema,
  NotificationSchema,
  BroadcastSchema,
  WebhookEndpointSchema,
  CreatedWebhookEndpointSchema,
]
