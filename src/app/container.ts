import { createHealthService } from '../account-health/account-health.service.ts'
import { createAccountService } from '../accounts/accounts.service.ts'
import { createAuditService } from '../audit/audit.service.ts'
import { createApiKeyService } from '../auth/api-keys/api-keys.service.ts'
import { createSessionService } from '../auth/sessions/sessions.service.ts'
import { createBounceService } from '../bounces/bounces.service.ts'
import { createProviderVerifiers } from '../bounces/providers/index.ts'
import { createSuppressionService } from '../bounces/suppressions.service.ts'
import { createBroadcastService } from '../broadcasts/broadcasts.service.ts'
import type { Config } from '../config/config.ts'
import { createContactService } from '../contacts/contacts.service.ts'
import { createCorrectionService } from '../corrections/corrections.service.ts'
import type { Db } from '../db/database.ts'
import { type Clock, systemClock } from '../lib/clock.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
import { createNotificationService } from '../notifications/notifications.service.ts'
import { DEFAULT_POLICY, type RoutingPolicy } from '../routing/routing-policy.ts'
import { createUserService } from '../users/users.service.ts'
import { createVerificationLinkService, createVerificationService } from '../verification/verification.service.ts'
import { createWebhookEndpointService } from '../webhooks/webhook-endpoints.service.ts'

export type Services = ReturnType<typeof createServices>

/** The composition root: the database, clock and settings in, every service out. */
export function createServices({
  db,
  config,
  secrets,
  clock = systemClock,
  policy = DEFAULT_POLICY,
  onQueued,
}: {
  db: Db
  config: Pick<Config, 'publicUrl' | 'reviewIntervalDays' | 'webhookAllowPrivate'> & {
    emailEvents?: Pick<Config['emailEvents'], 'softBounces' | 'providers'>
  }
  secrets: SecretDeriver
  clock?: Clock
  policy?: RoutingPolicy
  /** Called after work was queued, so an in-process worker can start at once. */
  onQueued?: () => void
}) {
  const accounts = createAccountService({ db })
  const verification = createVerificationService({ clock, publicUrl: config.publicUrl, secrets })
  const contacts = createContactService({ db, clock, verification })
  const verificationLinks = createVerificationLinkService({ db, tokens: verification, contacts })
  const users = createUserService({ db, contacts, publicUrl: config.publicUrl })
  const apiKeys = createApiKeyService({ db, clock })
  const sessions = createSessionService({ db, clock, publicUrl: config.publicUrl })
  const audit = createAuditService({ db })
  const health = createHealthService({ db, accounts, contacts, clock, reviewIntervalDays: config.reviewIntervalDays })
  const notifications = createNotificationService({ db, policy, ...(onQueued ? { onQueued } : {}) })
  const webhooks = createWebhookEndpointService({ db, secrets, allowPrivate: config.webhookAllowPrivate })
  const broadcasts = createBroadcastService({ db, policy })
  const bounces = createBounceService({
    db,
    secrets,
    policy,
    publicUrl: config.publicUrl,
    softBounces: config.emailEvents?.softBounces ?? { limit: 3, days: 7 },
    ...(onQueued ? { onQueued } : {}),
  })
  const suppressions = createSuppressionService({ db, contacts })
  const corrections = createCorrectionService({
    db,
    secrets,
    publicUrl: config.publicUrl,
    ...(onQueued ? { onQueued } : {}),
  })
  // one verifier per email service configured to post its events (POST /v1/email-events/{provider})
  const emailEventVerifiers = createProviderVerifiers(config.emailEvents?.providers ?? {}, { now: () => clock.now() })
  return {
    db,
    clock,
    policy,
    // the worker signs webhooks with it; tests make verification links with it
    secrets,
    accounts,
    contacts,
    verificationLinks,
    users,
    apiKeys,
    sessions,
    audit,
    health,
    notifications,
    webhooks,
    broadcasts,
    bounces,
    suppressions,
    corrections,
    emailEventVerifiers,
  }
}
