import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyReply } from 'fastify'

import { CSRF_COOKIE, SESSION_COOKIE } from '../app/auth.plugin.ts'
import type { Services } from '../app/container.ts'
import { type EmbeddingConfig, themeCss } from '../config/embedding-config.ts'
import { listEmlFiles } from '../delivery/transports/eml.transport.ts'
import { AppError } from '../lib/errors.ts'
import { newSecret } from '../lib/ids.ts'
import { Strict } from '../lib/schemas.ts'

/** The built page (`npm run build:web`). */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist')

/** How long a browser keeps the page's scripts and stylesheets: a year, the most caches honour. */
const ASSET_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Account &amp; Billing</title></head>
<body><main><h1>Account &amp; Billing</h1><p>The settings page is not built. Run <code>npm run build:web</code>
(<code>npm install</code> does it) and reload.</p></main></body></html>`

export interface UiOptions {
  services: Pick<Services, 'sessions' | 'users' | 'accounts'>
  publicUrl: string
  /** Where `.eml` demo mail is written; undefined when mail goes over SMTP. */
  mailDir: string | undefined
  embedding: EmbeddingConfig
}

/**
 * The page's HTML as the operator's embedding makes it: the theme's stylesheet after the page's
 * own (its custom properties win), and the origins that may frame it, which the page posts its
 * height to (web/src/embed.ts). Attributes only: the CSP allows no inline script or style.
 */
function withEmbedding(html: string, embedding: EmbeddingConfig): string {
  const themed = Object.keys(embedding.theme).length > 0
  const head = [
    themed ? '<link rel="stylesheet" href="/ui/theme.css">' : '',
    embedding.frameAncestors.length > 0
      ? `<meta name="ac-frame-ancestors" content="${embedding.frameAncestors.join(' ')}">`
      : '',
  ].join('')
  return head ? html.replace('</head>', `${head}</head>`) : html
}

/**
 * The settings page: its static files, and the few calls only the page makes (exchanging the
 * sign-in token for cookies, who is signed in, the demo mailbox). They are not part of the
 * public API and stay out of the OpenAPI document.
 */
export const uiRoutes: FastifyPluginAsyncTypebox<UiOptions> = async (app, opts) => {
  const secure = opts.publicUrl.startsWith('https:')
  const indexFile = path.join(WEB_DIST, 'index.html')
  const built = fs.existsSync(indexFile)
  const index = built ? withEmbedding(fs.readFileSync(indexFile, 'utf8'), opts.embedding) : NOT_BUILT
  const theme = themeCss(opts.embedding.theme)
  // inside another site's frame the cookies are third-party: SameSite=None (the CSRF token still
  // guards every write), Secure (which None requires) and Partitioned (CHIPS: kept under the host
  // product's site only, and allowed where third-party cookies are blocked). Otherwise Strict.
  const framed = opts.embedding.frameAncestors.length > 0
  const sameSite = framed
    ? { sameSite: 'none' as const, secure: true, partitioned: true }
    : { sameSite: 'strict' as const, secure }

  if (built) {
    // `serve: false`: the plugin only sends files; our own route declares its access like any other.
    // The names carry a content hash (Vite), so a browser may keep them for good; the brotli and
    // gzip copies beside them are made by the build (web/vite.config.ts)
    await app.register(fastifyStatic, {
      root: path.join(WEB_DIST, 'assets'),
      serve: false,
      preCompressed: true,
      maxAge: ASSET_MAX_AGE_MS,
      immutable: true,
    })
    app.get<{ Params: { '*': string } }>(
      '/ui/assets/*',
      { config: { access: 'public' }, schema: { hide: true } },
      // the plugin does not say that the answer depends on the encoding asked for; shared caches must know
      async (req, reply) => reply.header('vary', 'accept-encoding').sendFile(req.params['*']),
    )
  }
  const sendIndex = (reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(index)
  // the operator's theme (UI_THEME); changes with config, so revalidated rather than kept
  app.get('/ui/theme.css', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(theme),
  )
  app.get('/ui', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.redirect('/ui/'),
  )
  // every other page path is the same single-page app (it routes on the client)
  app.get('/ui/*', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => sendIndex(reply))

  app.post(
    '/ui/session',
    {
      config: { access: 'public', checksToken: true },
      schema: { hide: true, body: Strict({ token: Type.String({ minLength: 10, maxLength: 200 }) }) },
    },
    async (req, reply) => {
      const s = await opts.services.sessions.authenticate(req.body.token)
      if (!s)
        throw new AppError('unauthenticated', {
          detail: 'The sign-in link is not valid or has expired. Open it again from your product.',
        })
      const expires = s.expiresAt
      const cookie = { path: '/', ...sameSite, expires }
      reply.setCookie(SESSION_COOKIE, req.body.token, { ...cookie, httpOnly: true })
      // readable by the page, which echoes it in X-CSRF-Token; another site can neither read nor set it
      reply.setCookie(CSRF_COOKIE, newSecret(24), { ...cookie, httpOnly: false })
      return { accountId: s.accountId, userId: s.userId, role: s.role }
    },
  )

  app.get('/ui/session', { config: { access: 'session' }, schema: { hide: true } }, async (req) => {
    const actor = req.actor
    if (actor?.type !== 'user') throw new AppError('unauthenticated')
    const [user, account] = await Promise.all([
      opts.services.users.get(actor.accountId, actor.id),
      opts.services.accounts.get(actor.accountId),
    ])
    return {
      accountId: account.id,
      accountName: account.name,
      userId: user.id,
      name: user.name,
      email: user.email,
      role: user.role,
      locale: user.locale ?? account.locale,
      demoMail: opts.mailDir !== undefined,
    }
  })

  app.post('/ui/sign-out', { config: { access: 'public' }, schema: { hide: true } }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE]
    if (token) await opts.services.sessions.revoke(token)
    // cleared with the attributes they were set with: a partitioned cookie is only matched so
    reply.clearCookie(SESSION_COOKIE, { path: '/', ...sameSite }).clearCookie(CSRF_COOKIE, { path: '/', ...sameSite })
    return reply.code(204).send()
  })

  // Only where mail is written as files (no SMTP_URL), and only the caller's own account's mail:
  // the folder is shared by every account.
  app.get('/ui/demo-mail', { config: { access: 'session' }, schema: { hide: true } }, async (req) => {
    if (!opts.mailDir)
      throw new AppError('not-found', { detail: 'Mail goes over SMTP here; there is no demo mailbox.' })
    const actor = req.actor
    if (actor?.type !== 'user') throw new AppError('unauthenticated')
    return { data: await listEmlFiles(opts.mailDir, 50, { accountId: actor.accountId }) }
  })
}
