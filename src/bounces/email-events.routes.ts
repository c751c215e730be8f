import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { problems } from '../app/route-helpers.ts'
import { AppError } from '../lib/errors.ts'
import type { BounceService, MailEventOutcome } from './bounces.service.ts'
import { MAIL_EVENT_PROVIDERS, type MailEventProvider } from './mail-event.ts'
import type { ProviderVerifier } from './providers/index.ts'

/** How long confirming an SNS subscription may take: SNS waits for our answer meanwhile. */
const SUBSCRIBE_TIMEOUT_MS = 5000

const EmailEventsAnswer = Type.Object({
  received: Type.Integer({
    format: 'int32',
    minimum: 0,
    maximum: 100_000,
    description: 'Events in the request that we act on',
  }),
})

/**
 * `POST /v1/email-events/{provider}`: an email service's bounce, complaint and delivery events.
 * No API key: each request is authenticated as its provider documents (a signature, or Postmark's
 * Basic credentials), over the body exactly as sent, so this scope reads every body as bytes.
 * A request that fails that check changes nothing and is answered 401 (logged); an event whose
 * reference names none of our deliveries is logged and dropped (200, so the service does not retry).
 */
export const emailEventRoutes: FastifyPluginAsyncTypebox<{
  bounces: Pick<BounceService, 'ingest'>
  verifiers: Record<MailEventProvider, ProviderVerifier | undefined>
}> = async (app, { bounces, verifiers }) => {
  app.removeAllContentTypeParsers()
  // SNS posts JSON as text/plain; the others as application/json: the verifier reads the bytes
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

  app.post(
    '/v1/email-events/:provider',
    {
      config: { access: 'public' },
      schema: {
        tags: ['bounces'],
        operationId: 'postEmailEvents',
        summary:
          "An email service's bounce, complaint and delivery events (SES through SNS, Postmark, SendGrid, Mailgun)",
        description:
          'Authenticated as each provider documents (SNS signature, SendGrid ECDSA, Mailgun HMAC, Postmark Basic credentials), not with an API key. A request that fails that check is 401 and changes nothing; an event naming none of our deliveries is logged and dropped. See docs/BOUNCES.md.',
        security: [],
        params: Type.Object({ provider: Type.Union(MAIL_EVENT_PROVIDERS.map((p) => Type.Literal(p))) }),
        response: { 200: EmailEventsAnswer, ...problems(400, 404, 413) },
      },
    },
    async (req) => {
      const { provider } = req.params
      const verify = verifiers[provider]
      if (!verify) throw new AppError('not-found', { detail: `Events from ${provider} are not configured here.` })
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
      const result = await verify({ headers: req.headers, rawBody, url: req.url })
      if (!result.ok) {
        req.log.warn({ provider, reason: result.reason }, 'email event refused')
        throw result.status === 401
          ? new AppError('unauthenticated', { detail: `The request is not signed as ${provider} signs its events.` })
          : new AppError('validation-failed', { detail: result.reason })
      }
      if (result.subscribeUrl) await confirmSubscription(result.subscribeUrl)
      const outcomes = await bounces.ingest(result.events, req.log)
      logOutcomes(req.log, provider, result.events, outcomes)
      return { received: result.events.length }
    },
  )
}

/** SNS asks once that we confirm the topic's subscription by fetching its SubscribeURL (already checked to be SNS's). */
async function confirmSubscription(url: string): Promise<void> {
  const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(SUBSCRIBE_TIMEOUT_MS) })
  if (!res.ok) throw new Error(`confirming the SNS subscription answered ${res.status}`)
}

function logOutcomes(
  log: { info(o: object, m: string): void; warn(o: object, m: string): void },
  provider: MailEventProvider,
  events: { eventId: string; kind: string }[],
  outcomes: MailEventOutcome[],
) {
  outcomes.forEach((outcome, i) => {
    const about = { provider, eventId: events[i]!.eventId, kind: events[i]!.kind, outcome }
    if (outcome === 'unmatched') log.warn(about, 'email event names none of our deliveries, or an expired one')
    else log.info(about, 'email event taken')
  })
}
