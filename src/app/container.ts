import type { Kysely } from 'kysely'
import { createAccountService } from '../accounts/accounts.service.ts'
import { createAuditService } from '../audit/audit.service.ts'
import { createApiKeyService } from '../auth/api-keys/api-keys.service.ts'
import { createSessionService } from '../auth/sessions/sessions.service.ts'
import type { Config } from '../config/config.ts'
import { createContactService } from '../contacts/contacts.service.ts'
import type { Database } from '../db/database.ts'
import { createHealthService } from '../health/health.service.ts'
import { systemClock, type Clock } from '../lib/clock.ts'
import { createUserService } from '../users/users.service.ts'

export type Services = ReturnType<typeof createServices>

/** The composition root: the database and clock in, every service out. */
export function createServices({
  db,
  config,
  clock = systemClock,
}: {
  db: Kysely<Database>
  config: Pick<Config, 'publicUrl' | 'reviewIntervalDays'>
  clock?: Clock
}) {
  const accounts = createAccountService({ db })
  const contacts = createContactService({ db, clock })
  const users = createUserService({ db, contacts })
  const apiKeys = createApiKeyService({ db, clock })
  const sessions = createSessionService({ db, clock, publicUrl: config.publicUrl })
  const audit = createAuditService({ db })
  const health = createHealthService({ accounts, contacts, clock, reviewIntervalDays: config.reviewIntervalDays })
  return { db, clock, accounts, contacts, users, apiKeys, sessions, audit, health }
}
