import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { AccountParamsSchema } from '../accounts/accounts.schemas.ts'
import { problem, problems, publicProblems } from '../app/route-helpers.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import { escapeHtml } from '../mail/system-mail.ts'
import { ProblemSchema } from '../lib/schemas.ts'

const TEXT = {
  en: {
    confirm: (email: string, account: string) => `Confirm that ${email} is the security contact of ${account}.`,
    button: 'Confirm',
    ok: (email: string, account: string) => `Thank you. ${email} is now the verified security contact of ${account}.`,
    bad: 'This link is not valid any more: it was used already, it expired, or the address was changed. Ask the account\'s administrator to send a new one.',
    title: 'Security contact',
  },
  fi: {
    confirm: (email: string, account: string) => `Vahvista, että ${email} on tilin ${account} turvallisuusyhteyshenkilö.`,
    button: 'Vahvista',
    ok: (email: string, account: string) => `Kiitos. ${email} on nyt tilin ${account} vahvistettu turvallisuusyhteyshenkilö.`,
    bad: 'Linkki ei ole enää voimassa: se on jo käytetty, se on vanhentunut tai osoite on vaihdettu. Pyydä tilin ylläpitäjää lähettämään uusi.',
    title: 'Turvallisuusyhteyshenkilö',
  },
}

/** The heading as HTML: the Finnish word is too long for a 320-pixel screen without hyphenation points. */
const HEADING = { en: 'Security contact', fi: 'Turvallisuus&shy;yhteys&shy;henkilö' }

/**
 * `text` as HTML, with break opportunities (`<wbr>`) inside long words: an address or an account
 * name must wrap on a narrow screen, and the page has no stylesheet to say so.
 */
const wrapping = (text: string) =>
  text
    .split(/(\s+)/)
    .map((w) => (w.length <= 20 ? escapeHtml(w) : (w.match(/[\s\S]{1,12}/gu) ?? []).map(escapeHtml).join('<wbr>')))
    .join('')

/**
 * The link's page: a message and, to confirm, a plain form (no script, none is allowed by the
 * Content-Security-Policy). The form posts to the page's own path, relative, so that it also works
 * under a PUBLIC_URL with a path of its own.
 */
const page = (lang: 'en' | 'fi', message: string, confirmToken?: string) =>
  `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">` +
  `<title>${TEXT[lang].title}</title></head><body><main><h1>${HEADING[lang]}</h1><p>${wrapping(message)}</p>` +
  (confirmToken === undefined
    ? ''
    : `<form method="post" action="verify-email"><input type="hidden" name="token" value="${escapeHtml(confirmToken)}">` +
      `<button type="submit">${TEXT[lang].button}</button></form>`) +
  `</main></body></html>`

const TokenSchema = Type.String({ minLength: 1, maxLength: 200 })

const PAGE_400 = {
  description: 'The link is not valid (a small HTML page), or the request is not (validation-failed)',
  content: {
    'text/html': { schema: Type.String({ description: 'A small HTML page saying the link is not valid', maxLength: 4096 }) },
    'application/problem+json': { schema: Type.Ref(ProblemSchema) },
  },
}

/** The form's body as an object; only this plugin's routes read this media type. */
function parseForm(_req: unknown, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) {
  done(null, Object.fromEntries(new URLSearchParams(body.toString())))
}

export const verificationRoutes: FastifyPluginAsyncTypebox<{ contacts: ContactService }> = async (app, { contacts }) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, parseForm)

  // Opening the link changes nothing: mail security scanners open every link in a message, and a
  // GET that verified would let them confirm addresses nobody looked at. The page asks first.
  app.get(
    '/v1/verify-email',
    {
      config: { access: 'public' },
      schema: {
        tags: ['contacts'],
        operationId: 'openVerificationLink',
        summary: 'The link in the verification mail: a page that asks to confirm the address (changes nothing)',
        security: [],
        querystring: Type.Object({ token: TokenSchema }, { additionalProperties: false }),
        produces: ['text/html'],
        response: {
          200: Type.String({ description: 'A small HTML page naming the address and account, with a button that posts the token to confirm', maxLength: 4096 }),
          400: PAGE_400,
          ...publicProblems(),
        },
      },
    },
    async (req, reply) => {
      const r = await contacts.checkVerificationLink(req.query.token)
      const html = r.ok ? page(r.locale, TEXT[r.locale].confirm(r.email!, r.accountName!), req.query.token) : page(r.locale, TEXT[r.locale].bad)
      // the page holds the token (in its form): no cache may keep it
      return reply.code(r.ok ? 200 : 400).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(html)
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
      config: { access: 'public' },
      schema: {
        tags: ['contacts'],
        operationId: 'verifyEmail',
        summary: 'Confirms an outside security address with the token of its verification link (what the link page posts)',
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
      const r = await contacts.verifyEmail(req.body.token)
      const text = r.ok ? TEXT[r.locale].ok(r.email!, r.accountName!) : TEXT[r.locale].bad
      return reply.code(r.ok ? 200 : 400).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page(r.locale, text))
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
