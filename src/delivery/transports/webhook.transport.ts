import { type IncomingMessage, request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'

import { RETRY_AFTER_MAX_SECONDS } from '../retry-policy.ts'
import type { DeliveryResult, OutgoingWebhook, WebhookTransport } from './transport.ts'
import { assertWebhookUrl, type HostLookup, type ResolvedAddress, UnsafeUrlError } from './url-guard.ts'
import { signWebhook } from './webhook-signature.ts'

/** We read this much of an answer at most: the body is ignored, and a peer must not make us buffer. */
const MAX_RESPONSE_BYTES = 64 * 1024

/**
 * Delivers webhooks over HTTP(S), signed per Standard Webhooks. Uses `node:http(s)` rather than
 * `fetch` because only `request` lets us pin the connection to the address the SSRF guard checked
 * (a custom `lookup`), which closes the DNS-rebinding gap. Never follows redirects, never throws.
 */
export function createWebhookTransport(options: {
  allowPrivate: boolean
  timeoutMs?: number
  lookup?: HostLookup
}): WebhookTransport {
  const timeoutMs = options.timeoutMs ?? 10_000
  return {
    async send(hook) {
      // One deadline for the lookup and the exchange, so a stalled DNS server cannot hang a worker.
      const signal = AbortSignal.timeout(timeoutMs)
      let addresses: ResolvedAddress[]
      try {
        const guard = { allowPrivate: options.allowPrivate, ...(options.lookup ? { lookup: options.lookup } : {}) }
        addresses = await Promise.race([assertWebhookUrl(hook.url, guard), rejectOnAbort(signal)])
      } catch (err) {
        if (err instanceof UnsafeUrlError) return { ok: false, retryable: false, detail: err.message }
        return { ok: false, retryable: true, detail: failureDetail(err, signal, timeoutMs) }
      }
      return post(hook, addresses, signal, timeoutMs)
    },
  }
}

function post(
  hook: OutgoingWebhook,
  addresses: ResolvedAddress[],
  signal: AbortSignal,
  timeoutMs: number,
): Promise<DeliveryResult> {
  const url = new URL(hook.url)
  const pinned = addresses[0]!
  // Answer with the checked address instead of resolving again. With `all` (Node's happy-eyeballs
  // path) every checked address is offered; each one passed the guard.
  const lookup: LookupFunction = (_host, opts, callback) => {
    if (opts.all)
      callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      )
    else callback(null, pinned.address, pinned.family)
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const body = Buffer.from(hook.body, 'utf8')
  const headers = {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'account-contacts-webhooks/1',
    ...signWebhook({ secret: hook.secret, msgId: hook.msgId, timestamp: hook.timestamp, body: hook.body }),
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve) => {
    // Once the status line is in, that decides; a later error (e.g. the timeout while we drain the body) does not undo it.
    let decided: DeliveryResult | undefined
    let settled = false
    const settle = (result: DeliveryResult) => {
      if (settled) return
      settled = true
      req.destroy()
      resolve(result)
    }
    const req = request(url, {
      method: 'POST',
      headers,
      lookup,
      signal,
      // A fresh connection each time: a pooled socket would outlive the check it was made under.
      agent: false,
      // TLS must still verify the certificate for the name in the URL, not for the pinned address.
      ...(isIP(host) === 0 ? { servername: host } : {}),
    })
    req.on('error', (err) =>
      settle(decided ?? { ok: false, retryable: true, detail: failureDetail(err, signal, timeoutMs) }),
    )
    req.on('response', (res: IncomingMessage) => {
      const result = classify(res)
      decided = result
      // Drain (and drop) the body so the peer sees a clean exchange, up to the cap.
      let read = 0
      res.on('data', (chunk: Buffer) => {
        read += chunk.length
        if (read >= MAX_RESPONSE_BYTES) settle(result)
      })
      res.on('end', () => settle(result))
      res.on('error', () => settle(result))
      res.on('close', () => settle(result))
    })
    req.end(body)
  })
}

/** Maps an HTTP answer to a delivery result (docs/PRODUCT.md, "Webhooks"). */
function classify(res: IncomingMessage): DeliveryResult {
  const status = res.statusCode ?? 0
  const detail = `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`
  if (status >= 200 && status < 300) return { ok: true, retryable: false, detail }
  // A redirect could point anywhere, including inside our network: it is the endpoint's config to fix.
  if (status >= 300 && status < 400) return { ok: false, retryable: false, detail: 'redirects are not followed (3xx)' }
  if (status === 410)
    return { ok: false, retryable: false, disableEndpoint: true, detail: `${detail}: endpoint disabled` }
  if (status === 429 || (status >= 500 && status < 600)) {
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'])
    return { ok: false, retryable: true, detail, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) }
  }
  return { ok: false, retryable: false, detail }
}

/** `Retry-After` is delta-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined
  const trimmed = value.trim()
  let ms: number
  if (/^\d+$/.test(trimmed)) ms = Number(trimmed) * 1000
  else {
    const at = Date.parse(trimmed)
    if (Number.isNaN(at)) return undefined
    ms = Math.max(0, at - now)
  }
  return Math.min(ms, RETRY_AFTER_MAX_SECONDS * 1000)
}

function failureDetail(err: unknown, signal: AbortSignal, timeoutMs: number): string {
  if (signal.aborted) return `timed out after ${timeoutMs} ms`
  const e = err as NodeJS.ErrnoException
  return `network error: ${e?.message || e?.code || String(err)}`
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))
}
