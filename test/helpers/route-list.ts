import dc from 'node:diagnostics_channel'

import type { FastifyInstance, RouteOptions } from 'fastify'

/** A route as the server registered it: `METHOD /path` in Fastify's own notation (`:param`, `*`). */
export interface ServerRoute {
  key: string
  method: string
  url: string
  /** The route's declared `config.access` (src/app/access.ts). */
  access: string | undefined
  /** Left out of the OpenAPI document (`schema.hide`). */
  hidden: boolean
}

/**
 * Runs `build` and answers every route that the Fastify instances it creates register, as the
 * server itself reports them: Fastify publishes each new instance on the `fastify.initialization`
 * diagnostics channel, where an `onRoute` hook is added before any plugin or route is. HEAD routes
 * that Fastify adds for GET routes are reported too, since the server answers them.
 */
export async function collectRoutes<T>(build: () => Promise<T>): Promise<{ value: T; routes: ServerRoute[] }> {
  const routes: ServerRoute[] = []
  const onInit = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance }
    fastify.addHook('onRoute', (r: RouteOptions) => {
      for (const method of [r.method].flat()) {
        const config = r.config as { access?: string } | undefined
        routes.push({
          key: `${method} ${r.url}`,
          method,
          url: r.url ?? '',
          access: config?.access,
          hidden: (r.schema as { hide?: boolean } | undefined)?.hide === true,
        })
      }
    })
  }
  dc.subscribe('fastify.initialization', onInit)
  try {
    const value = await build()
    return { value, routes }
  } finally {
    dc.unsubscribe('fastify.initialization', onInit)
  }
}
