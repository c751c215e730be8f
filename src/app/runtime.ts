import path from 'node:path'

import { type BounceListener, startBounceListener } from '../bounces/bounce-listener.ts'
import { dsnEvents } from '../bounces/dsn-events.ts'
import { MAIL_EVENT_PROVIDERS } from '../bounces/mail-event.ts'
import { providerRefHeaders } from '../bounces/providers/index.ts'
import { verifyRef } from '../bounces/return-path.ts'
import type { Config } from '../config/config.ts'
import type { DatabaseHandle } from '../db/connect.ts'
import { BACKOFF_BASE_SECONDS } from '../delivery/retry-policy.ts'
import { createEmlTransport } from '../delivery/transports/eml.transport.ts'
import { createSmtpTransport } from '../delivery/transports/smtp.transport.ts'
import type { EmailTransport } from '../delivery/transports/transport.ts'
import { createWebhookTransport } from '../delivery/transports/webhook.transport.ts'
import { createWorker, type Worker, type WorkerDeps } from '../delivery/worker.ts'
import { createSecretDeriver, resolveMasterKey } from '../lib/derived-secrets.ts'
import { retentionChore } from '../retention/retention.ts'
import { sendDueReviewReminders } from '../reviews/review-reminders.ts'
import { loadRoutingPolicy } from '../routing/routing-policy.ts'
import { createServices, type Services } from './container.ts'

/** Where `.eml` mail goes without SMTP_URL. */
export const mailDir = (config: Pick<Config, 'dataDir'>) => path.join(config.dataDir, 'mail')

/** Services over an open database, with the policy and secrets the configuration names. */
export function servicesFor(handle: DatabaseHandle, config: Config, opts: { onQueued?: () => void } = {}): Services {
  return createServices({
    db: handle.db,
    config,
    secrets: createSecretDeriver(resolveMasterKey(config.secretKey, config.dataDir)),
    policy: loadRoutingPolicy(config.routingPolicyPath),
    ...(opts.onQueued ? { onQueued: opts.onQueued } : {}),
  })
}

/** Email over SMTP when SMTP_URL is set, else `.eml` files in DATA_DIR/mail (the embedded default). */
function emailTransportFor(config: Config): EmailTransport {
  return config.smtpUrl
    ? createSmtpTransport({ url: config.smtpUrl, from: config.mailFrom })
    : createEmlTransport({ dir: mailDir(config), from: config.mailFrom })
}

/**
 * The SMTP listener that takes bounce reports for MAIL_RETURN_PATH (BOUNCE_SMTP_PORT), started,
 * or undefined when it is not configured. Each report goes through the bounce service like an
 * email service's event (docs/BOUNCES.md).
 */
export async function bounceListenerFor(
  services: Services,
  config: Config,
  log: WorkerDeps['log'],
): Promise<BounceListener | undefined> {
  const { returnPath, bounceSmtp } = config.emailEvents
  if (!returnPath || !bounceSmtp) return undefined
  return startBounceListener({
    port: bounceSmtp.port,
    host: bounceSmtp.host ?? config.host,
    returnPath,
    verifyRef: (ref) => verifyRef(services.secrets, ref),
    clock: services.clock,
    log,
    async onReport(r) {
      const outcomes = await services.bounces.ingest(dsnEvents(r), log)
      log.info({ outcomes }, 'bounce report taken')
    },
  })
}

/** The metadata headers of every email service configured to report events, so that its reports name the delivery. */
function refHeadersFor(config: Config): ((ref: string) => Record<string, string>) | undefined {
  const providers = MAIL_EVENT_PROVIDERS.filter((p) => config.emailEvents.providers[p])
  if (providers.length === 0) return undefined
  return (ref) => Object.assign({}, ...providers.map((p) => providerRefHeaders(p, ref)))
}

/**
 * A delivery worker for this configuration, with its chores: broadcast batches, review reminders
 * (checked every few minutes), pruning of old history in small batches (src/retention/).
 */
export function workerFor(
  services: Services,
  config: Config,
  log: WorkerDeps['log'],
): Worker & { closeTransports(): Promise<void> } {
  const email = emailTransportFor(config)
  const every = (ms: number, f: () => Promise<unknown>) => {
    let last = 0
    return async () => {
      if (Date.now() - last < ms) return
      last = Date.now()
      await f()
    }
  }
  const worker = createWorker({
    db: services.db,
    email,
    webhook: createWebhookTransport({ allowPrivate: config.webhookAllowPrivate }),
    secrets: services.secrets,
    clock: services.clock,
    log,
    bounces: services.bounces,
    options: {
      batchSize: 50,
      // four batches in flight, so the SMTP pool's connections always have mail while batches
      // are claimed and settled; after a crash, what was in flight (at most 200) may go twice
      lanes: 4,
      leaseSeconds: config.workerLeaseSeconds,
      pollMs: 1000,
      backoffBaseSeconds: BACKOFF_BASE_SECONDS,
      messageIdHost: new URL(config.publicUrl).hostname,
      publicUrl: config.publicUrl,
      mailFrom: config.mailFrom,
      returnPath: config.emailEvents.returnPath,
      refHeaders: refHeadersFor(config),
    },
    chores: [
      // a broadcast batch per turn, so deliveries of earlier batches go out meanwhile
      () => services.broadcasts.processBatch(),
      every(5 * 60_000, () =>
        sendDueReviewReminders({
          db: services.db,
          clock: services.clock,
          policy: services.policy,
          intervalDays: config.reviewIntervalDays,
          publicUrl: config.publicUrl,
        }),
      ),
      retentionChore(
        // without DATABASE_URL the database is PGlite, where no autovacuum runs
        {
          db: services.db,
          clock: services.clock,
          retentionDays: config.retentionDays,
          auditRetentionDays: config.auditRetentionDays,
          softBounceDays: config.emailEvents.softBounces.days,
          vacuum: !config.databaseUrl,
        },
        log,
      ),
    ],
  })
  return { ...worker, closeTransports: () => email.close() }
}
