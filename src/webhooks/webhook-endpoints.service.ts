import type { Kysely } from 'kysely'

import type { Database } from '../db/database.ts'
import {
  assertWebhookUrl,
  checkWebhookUrlShape,
  type HostLookup,
  UnsafeUrlError,
} from '../delivery/transports/url-guard.ts'
import { AppError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import type { CreateWebhookEndpoint, WebhookEndpoint } from './webhook-endpoints.schemas.ts'
import type { SecretDeriver } from './webhook-secrets.ts'
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

/** The platform's webhook endpoints. Queries are here: the table has no other user but the worker's. */
export function createWebhookEndpointService(deps: {
  db: Kysely<Database>
  secrets: SecretDeriver
  allowPrivate: boolean
  lookup?: HostLookup
}) {
  const { db } = deps
  return {
    secrets: deps.secrets,

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
      const row = await db
        .insertInto('webhook_endpoints')
        .values({
          id: newId('whe'),
          url: input.url,
          description: input.description ?? null,
          event_types: input.eventTypes ?? null,
          disabled_reason: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow()
      return { ...toEndpoint(row), secret: deps.secrets.secretFor(row.id) }
    },

    async list(): Promise<{ data: WebhookEndpoint[] }> {
      const rows = await db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute()
      return { data: rows.map(toEndpoint) }
    },

    /** Deletes the endpoint and, by cascade, its pending deliveries. */
    async delete(id: string): Promise<void> {
      const res = await db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst()
      if (res.numDeletedRows === 0n) throw new AppError('not-found', { detail: `No webhook endpoint "${id}".` })
    },
  }
}
