import type { Db } from '../db/database.ts'
import {
  assertWebhookUrl,
  checkWebhookUrlShape,
  type HostLookup,
  UnsafeUrlError,
} from '../delivery/transports/url-guard.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
import { AppError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import * as repo from './webhook-endpoints.repository.ts'
import type { CreateWebhookEndpoint, WebhookEndpoint } from './webhook-endpoints.schemas.ts'
import type { WebhookEndpointRow } from './webhooks.table.ts'

const toEndpoint = (r: WebhookEndpointRow): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  description: r.description,
  eventTypes: r.event_types,
  status: r.status,
  disabledReason: r.disabled_reason,
  createdAt: r.created_at.toISOString(),
})

export type WebhookEndpointService = ReturnType<typeof createWebhookEndpointService>

/** The platform's webhook endpoints: registration checks the URL; the queries are in webhook-endpoints.repository.ts. */
export function createWebhookEndpointService(deps: {
  db: Db
  secrets: SecretDeriver
  allowPrivate: boolean
  lookup?: HostLookup
}) {
  const { db } = deps
  return {
    /**
     * Registers an endpoint after checking that its URL is public (unless WEBHOOK_ALLOW_PRIVATE).
     * The secret is derived from the id, so it can be shown now and never stored.
     */
    async create(input: CreateWebhookEndpoint): Promise<WebhookEndpoint & { secret: string }> {
      try {
        checkWebhookUrlShape(input.url)
        await assertWebhookUrl(input.url, {
          allowPrivate: deps.allowPrivate,
          ...(deps.lookup ? { lookup: deps.lookup } : {}),
        })
      } catch (e) {
        const message = e instanceof UnsafeUrlError ? e.message : `cannot be resolved (${(e as Error).message})`
        throw new AppError('validation-failed', {
          detail: `The URL ${message}`,
          errors: [{ path: '/body/url', message }],
        })
      }
      const row = await repo.insertWebhookEndpoint(db, {
        id: newId('whe'),
        url: input.url,
        description: input.description ?? null,
        event_types: input.eventTypes ?? null,
        disabled_reason: null,
      })
      return { ...toEndpoint(row), secret: deps.secrets.secretFor(row.id) }
    },

    async list(): Promise<{ data: WebhookEndpoint[] }> {
      return { data: (await repo.listWebhookEndpoints(db)).map(toEndpoint) }
    },

    /** Deletes the endpoint and, by cascade, its pending deliveries. */
    async delete(id: string): Promise<void> {
      if (!(await repo.deleteWebhookEndpoint(db, id)))
        throw new AppError('not-found', { detail: `No webhook endpoint "${id}".` })
    },
  }
}
