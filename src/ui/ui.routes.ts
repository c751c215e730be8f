import type { FastifyPluginAsync } from 'fastify'

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Account &amp; Billing</title></head>
<body><main><h1>Account &amp; Billing</h1>
<p>The settings page is not built yet. The REST API is served at <code>/v1</code>; its contract is
<a href="/openapi.json">/openapi.json</a>.</p></main></body></html>`

/** A placeholder for the settings page under /ui until the React page replaces it. */
export const uiRoutes: FastifyPluginAsync = async (app) => {
  app.get('/ui/*', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(PAGE),
  )
}
