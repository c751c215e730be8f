import type { Config } from '../../config/config.ts'
import { defineCommand } from '../command.ts'

/** Longer than a healthy /healthz could take, shorter than Docker's 30 s HEALTHCHECK timeout. */
const HEALTHCHECK_TIMEOUT_MS = 5_000

/** Where this configuration's /healthz answers: the management port when set (a worker's only port), else the API's. */
function healthzUrl(config: Pick<Config, 'host' | 'port' | 'managementPort'>): string {
  // a server listening on every address is asked on loopback
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.managementPort ?? config.port}/healthz`
}

/**
 * `account-contacts healthcheck [--url URL]`: GETs /healthz of the server at URL, or of the one
 * this configuration runs, and answers exit code 0 on a 200, else 1. For Docker's HEALTHCHECK,
 * where curl may not exist.
 */
async function healthcheck(config: Config, opts: { url?: string | undefined }): Promise<number> {
  const url = opts.url ? `${opts.url.replace(/\/+$/, '')}/healthz` : healthzUrl(config)
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(HEALTHCHECK_TIMEOUT_MS), redirect: 'manual' })
    const body = await res.text()
    if (res.status === 200) {
      process.stdout.write(`${url}: ${res.status} ok\n`)
      return 0
    }
    let detail = body.slice(0, 300)
    try {
      detail = (JSON.parse(body) as { detail?: string }).detail ?? detail
    } catch {
      // not a problem document: the body as it came
    }
    process.stderr.write(`${url}: ${res.status} ${detail}\n`)
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code
    process.stderr.write(`${url}: no answer (${cause ?? (err as Error).message})\n`)
  }
  return 1
}

export const command = defineCommand({
  options: { url: { type: 'string', value: 'URL', help: "ask the server at URL instead of this configuration's" } },
  run: ({ config, values }) => healthcheck(config, { url: values.url }),
})
