import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'

import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { acceptForms, htmlPage, problem, problems, publicProblems } from '../app/route-helpers.ts'
import { CORRECTION_PAGE_TEXT as TEXT } from '../i18n/correction-text.ts'
import { ProblemSchema } from '../lib/schemas.ts'
import { correctionForm, correctionMessage } from './correction-page.ts'
import {
  CorrectionFormSchema,
  CorrectionListQuerySchema,
  CorrectionParamsSchema,
  CorrectionRequestListSchema,
  CorrectionRequestSchema,
} from './corrections.schemas.ts'
import type { CorrectionService } from './corrections.service.ts'

const tags = ['contacts']
const PATH = '/v1/not-the-right-person'

/** A page for each answer; 400 when the link is not valid, 429 at the account's daily limit. */
const PAGE_PROBLEM = (description: string) => ({
  description,
  content: {
    'text/html': { schema: htmlPage('A small HTML page saying why') },
    'application/problem+json': { schema: Type.Ref(ProblemSchema) },
  },
})

export const correctionRoutes: FastifyPluginAsyncTypebox<{ corrections: CorrectionService }> = async (
  app,
  { corrections },
) => {
  acceptForms(app)

  // Opening the link changes nothing: mail scanners open every link in a message. The page asks.
  app.get(
    PATH,
    {
      config: { access: 'public', checksToken: true },
      schema: {
        tags,
        operationId: 'openCorrectionLink',
        summary:
          'The “Not the right person?” link of an account mail: a page that asks what is wrong (changes nothing)',
        security: [],
        querystring: Type.Object({ token: CorrectionFormSchema.properties.token }, { additionalProperties: false }),
        produces: ['text/html'],
        response: {
          200: htmlPage('The question: which mail, why it came, and a form with three answers'),
          400: PAGE_PROBLEM('The link is not valid (a page), or the request is not (validation-failed)'),
          ...publicProblems(),
        },
      },
    },
    async (req, reply) => {
      const r = await corrections.openLink(req.query.token)
      const html =
        r.state === 'ask' ? correctionForm(r, req.query.token) : correctionMessage(r.locale, TEXT[r.locale][r.state])
      // the page holds the token (in its form): no cache may keep it
      return reply
        .code(r.state === 'bad' ? 400 : 200)
        .header('cache-control', 'no-store')
        .type('text/html; charset=utf-8')
        .send(html)
    },
  )

  // No CSRF token, as for the verification link (verification.routes.ts): this route reads no
  // cookie or session; the token is the only authority, and it is single use.
  app.post(
    PATH,
    {
      config: { access: 'public', checksToken: true },
      schema: {
        tags,
        operationId: 'requestContactCorrection',
        summary:
          'Tells the account’s admins that an account mail reached the wrong person (what the link’s page posts); changes no contact',
        security: [],
        consumes: ['application/x-www-form-urlencoded', 'application/json'],
        body: CorrectionFormSchema,
        produces: ['text/html'],
        response: {
          200: htmlPage('Thanks (the admins were told), or: the link was used already'),
          400: PAGE_PROBLEM(
            'The link is not valid, or the answer needs an address (a page), or the request is not (validation-failed)',
          ),
          413: problem(413),
          415: { ...problem(415), description: 'The body is neither a form nor JSON (unsupported-media-type)' },
          429: PAGE_PROBLEM(
            'The account received too many requests today (a page), or too many requests (rate-limited)',
          ),
        },
      },
    },
    async (req, reply) => {
      const { token, ...form } = req.body
      const r = await corrections.file(token, form)
      const send = (code: 200 | 400 | 429, html: string) =>
        reply.code(code).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html)
      switch (r.state) {
        case 'thanks':
          return send(200, correctionMessage(r.locale, TEXT[r.locale].thanks(r.accountName)))
        case 'used':
          return send(200, correctionMessage(r.locale, TEXT[r.locale].used))
        case 'limited':
          return send(429, correctionMessage(r.locale, TEXT[r.locale].limited))
        case 'needAddress':
          return send(400, correctionForm(r.page, token, { error: TEXT[r.locale].needAddress, ...form }))
        default:
          return send(400, correctionMessage(r.locale, TEXT[r.locale].bad))
      }
    },
  )

  app.get(
    '/v1/accounts/:accountId/correction-requests',
    {
      config: { access: 'account:read' },
      schema: {
        tags,
        operationId: 'listCorrectionRequests',
        summary: 'What recipients said through “Not the right person?”: the open requests (or all), newest first',
        params: AccountParamsSchema,
        querystring: CorrectionListQuerySchema,
        response: { 200: CorrectionRequestListSchema, ...problems(400, 403, 404) },
      },
    },
    async (req) => ({
      data: await corrections.list(req.params.accountId, {
        all: req.query.status === 'all',
        limit: req.query.limit ?? 50,
      }),
    }),
  )

  app.post(
    '/v1/accounts/:accountId/correction-requests/:requestId/dismiss',
    {
      config: { access: 'account:write' },
      schema: {
        tags,
        operationId: 'dismissCorrectionRequest',
        summary: 'Takes a correction request off the page (after fixing the contact, or deciding not to); audited',
        params: CorrectionParamsSchema,
        response: { 200: Type.Ref(CorrectionRequestSchema), ...problems(400, 403, 404) },
      },
    },
    async (req) => corrections.dismiss(req.ctx(), req.params.accountId, req.params.requestId),
  )
}
