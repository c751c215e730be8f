import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { problem, problems, publicProblems } from '../app/route-helpers.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import { escapeHtml } from '../mail/system-mail.ts'
import { ProblemSchema } from '../lib/schemas.ts'

const TEXT = {
  en: {
    ok: (email: string, account: string) => `Thank you. ${email} is now the verified security contact of ${account}.`,
    bad: 'This link is not valid any more: it was used already, it expired, or the address was changed. Ask the account\'s administrator to send a new one.',
    title: 'Security contact',
  },
  fi: {
    ok: (email: string, account: string) => `Kiitos. ${email} on nyt tilin ${account} vahvistettu turvallisuusyhteyshenkilö.`,
    bad: 'Linkki ei ole enää voimassa: se on jo käytetty, se on vanhentunut tai osoite on vaihdettu. Pyydä tilin ylläpitäjää lähettämään uusi.',
    title: 'Turvallisuusyhteyshenkilö',
  },
}

const page = (lang: 'en' | 'fi', message: string) =>
  `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<title>${TEXT[lang].title}</title></head><body><main><h1>${TEXT[lang].title}</h1><p>${escapeHtml(message)}</p></main></body></html>`

export const verificationRoutes: FastifyPluginAsyncTypebox<{ contacts: ContactService }> = async (app, { contacts }) => {
  app.get(
    '/v1/verify-email',
    {
      config: { access: 'public' },
      schema: {
        tags: ['contacts'],
        operationId: 'verifyEmail',
        summary: 'The link in the verification mail: confirms an outside security address',
        security: [],
        querystring: Type.Object({ token: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
        produces: ['text/html'],
        response: {
          200: Type.String({ description: 'A small HTML page saying the address is verified' }),
          // The page for a link that is not valid; a request that is not (no token, say) is a problem like anywhere else.
          400: {
            description: 'The link is not valid (a small HTML page), or the request is not (validation-failed)',
            content: {
              'text/html': { schema: Type.String({ description: 'A small HTML page saying the link is not valid' }) },
              'application/problem+json': { schema: Type.Ref(ProblemSchema) },
            },
          },
          ...publicProblems(),
        },
      },
    },
    async (req, reply) => {
      const r = await contacts.verifyEmail(req.query.token)
      const text = r.ok ? TEXT[r.locale].ok(r.email!, r.accountName!) : TEXT[r.locale].bad
      return reply.code(r.ok ? 200 : 400).type('text/html; charset=utf-8').send(page(r.locale, text))
    },
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
          429: { ...problem(429), description: 'Too many requests (rate-limited), or too many verification mails (verification-mail-limit); see Retry-After' },
        },
      },
    },
    async (req, reply) => {
      await contacts.resendVerification(req.ctx(), req.params.accountId)
      return reply.code(202).send({ status: 'sent' as const })
    },
  )
}
