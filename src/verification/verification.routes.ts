import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { acceptForms, problem, problems, publicProblems } from '../app/route-helpers.ts'
import { VERIFICATION_PAGE_TEXT as TEXT } from '../i18n/verification-page.ts'
import { DateTimeSchema, ProblemSchema } from '../lib/schemas.ts'
import type { VerificationLinkService } from './verification.service.ts'
import { verificationPage as page } from './verification-page.ts'

const TokenSchema = Type.String({ minLength: 1, maxLength: 200 })

const PAGE_400 = {
  description: 'The link is not valid (a small HTML page), or the request is not (validation-failed)',
  content: {
    'text/html': {
      schema: Type.String({ description: 'A small HTML page saying the link is not valid', maxLength: 4096 }),
    },
    'application/problem+json': { schema: Type.Ref(ProblemSchema) },
  },
}

export const verificationRoutes: FastifyPluginAsyncTypebox<{ links: VerificationLinkService }> = async (
  app,
  { links },
) => {
  acceptForms(app)

  // Opening the link changes nothing: mail security scanners open every link in a message, and a
  // GET that verified would let them confirm addresses nobody looked at. The page asks first.
  app.get(
    '/v1/verify-email',
    {
      config: { access: 'public', checksToken: true },
      schema: {
        tags: ['contacts'],
        operationId: 'openVerificationLink',
        summary: 'The link in the verification mail: a page that asks to confirm the address (changes nothing)',
        security: [],
        querystring: Type.Object({ token: TokenSchema }, { additionalProperties: false }),
        produces: ['text/html'],
        response: {
          200: Type.String({
            description:
              'A small HTML page naming the address and account, with a button that posts the token to confirm',
            maxLength: 4096,
          }),
          400: PAGE_400,
          ...publicProblems(),
        },
      },
    },
    async (req, reply) => {
      const r = await links.checkVerificationLink(req.query.token)
      const html = r.ok
        ? page(r.locale, TEXT[r.locale].confirm(r.email!, r.accountName!), req.query.token)
        : page(r.locale, TEXT[r.locale].bad)
      // the page holds the token (in its form): no cache may keep it
      return reply
        .code(r.ok ? 200 : 400)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(html)
    },
  )

  // The confirmation. No CSRF token, on purpose: this route reads no cookie and no session, so a
  // request sent from another site carries no authority of the visitor's. All it can carry is a
  // token, and whoever knows a live token can already post it themselves; a forged post can only
  // do what its author could do directly. The token is the proof, it is single-use, and it goes in
  // the body (not the URL, so it is in no log line or history entry of this request).
  app.post(
    '/v1/verify-email',
    {
      config: { access: 'public', checksToken: true },
      schema: {
        tags: ['contacts'],
        operationId: 'verifyEmail',
        summary:
          'Confirms an outside security address with the token of its verification link (what the link page posts)',
        security: [],
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: Type.Object({ token: TokenSchema }, { additionalProperties: false }),
        produces: ['text/html'],
        response: {
          200: Type.String({ description: 'A small HTML page saying the address is verified', maxLength: 4096 }),
          400: PAGE_400,
          413: problem(413),
          415: { ...problem(415), description: 'The body is neither a form nor JSON (unsupported-media-type)' },
          ...publicProblems(),
        },
      },
    },
    async (req, reply) => {
      const r = await links.verifyEmail(req.body.token)
      const text = r.ok ? TEXT[r.locale].ok(r.email!, r.accountName!) : TEXT[r.locale].bad
      return reply
        .code(r.ok ? 200 : 400)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(page(r.locale, text))
    },
  )

  app.get(
    '/v1/accounts/:accountId/contacts/security/verification',
    {
      config: { access: 'account:read' },
      schema: {
        tags: ['contacts'],
        operationId: 'getPendingVerification',
        summary: 'When the pending security address was sent its verification link, and until when the link works',
        description: '409 `conflict` when the security contact is not an outside address waiting for verification.',
        params: AccountParamsSchema,
        response: {
          200: Type.Object({
            email: Type.String({ maxLength: 320 }),
            sentAt: Type.Union([DateTimeSchema, Type.Null()]),
            expiresAt: Type.Union([DateTimeSchema, Type.Null()], {
              description: 'Past: the link no longer works, and a new one must be sent',
            }),
          }),
          ...problems(400, 403, 404, 409),
        },
      },
    },
    async (req) => links.pendingLink(req.params.accountId),
  )

  app.post(
    '/v1/accounts/:accountId/contacts/security/resend-verification',
    {
      config: { access: 'account:write' },
      schema: {
        tags: ['contacts'],
        operationId: 'resendVerification',
        summary: 'Send the verification link again to the pending security address',
        params: AccountParamsSchema,
        response: {
          202: Type.Object({ status: Type.Literal('sent') }),
          ...problems(400, 403, 404, 409),
          429: {
            ...problem(429),
            description:
              'Too many requests (rate-limited), or too many verification mails (verification-mail-limit); see Retry-After',
          },
        },
      },
    },
    async (req, reply) => {
      await links.resendVerification(req.ctx(), req.params.accountId)
      return reply.code(202).send({ status: 'sent' as const })
    },
  )
}
