import { X509Certificate } from 'node:crypto'

/** The signing certificates of SNS, fetched once per URL, from allowed URLs only. */
export interface SnsCertificates {
  /** Whether `url` may be fetched (SigningCertURL) or visited (SubscribeURL). */
  allows(url: string): boolean
  /** The certificate at an allowed `url`, valid at `now`; rejects when it cannot be had. */
  get(url: string, now: Date): Promise<X509Certificate>
}

/** Where certificates may come from, and how they are fetched (global fetch, 5 s, by default). */
export interface SnsCertificateOptions {
  /** Further allowed URL prefixes, each ending in `/` (a test's own `http://127.0.0.1:port/`). */
  prefixes?: readonly string[]
  fetch?: typeof fetch
  timeoutMs?: number
}

// SNS's own endpoints: sns.<region>.amazonaws.com, and .amazonaws.com.cn in China. A look-alike
// (sns.x.amazonaws.com.evil.example) fails the anchored match; a port, a user or http fail the rest.
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/
const MAX_PEM_CHARS = 16_384
const MAX_CACHED = 32

/** Whether `raw` is https on an SNS host, or starts with one of `prefixes`. */
export function isAllowedSnsUrl(raw: string, prefixes: readonly string[] = []): boolean {
  if (prefixes.some((p) => raw.startsWith(p))) return true
  let url
  try {
    url = new URL(raw)
  } catch {
    return false
  }
  return url.protocol === 'https:' && url.port === '' && !url.username && !url.password && SNS_HOST.test(url.hostname)
}

/**
 * A cache of SNS signing certificates by URL. Only URLs that pass isAllowedSnsUrl are fetched, over
 * HTTPS from AWS (TLS is what vouches for the certificate, as AWS's guide has it); redirects are
 * refused, so an allowed URL cannot lead elsewhere. A failed fetch is not cached, so the next
 * message tries again; a certificate past its validity is dropped and fetched anew.
 */
export function createSnsCertificates(opts: SnsCertificateOptions = {}): SnsCertificates {
  const prefixes = opts.prefixes ?? []
  const doFetch = opts.fetch ?? globalThis.fetch
  const timeoutMs = opts.timeoutMs ?? 5000
  const cache = new Map<string, Promise<X509Certificate>>()

  async function load(url: string): Promise<X509Certificate> {
    const res = await doFetch(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs) })
    if (res.status !== 200) throw new Error(`certificate fetch answered ${res.status}`)
    const pem = await res.text()
    if (pem.length > MAX_PEM_CHARS) throw new Error('certificate too large')
    return new X509Certificate(pem)
  }

  return {
    allows: (url) => isAllowedSnsUrl(url, prefixes),
    async get(url, now) {
      if (!isAllowedSnsUrl(url, prefixes)) throw new Error('certificate URL not allowed')
      let pending = cache.get(url)
      if (!pending) {
        pending = load(url)
        cache.set(url, pending)
        // Oldest first: Map keeps insertion order.
        if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!)
      }
      try {
        const cert = await pending
        const valid = Date.parse(cert.validFrom) <= now.getTime() && now.getTime() <= Date.parse(cert.validTo)
        if (!valid) throw new Error('certificate not valid now')
        return cert
      } catch (err) {
        if (cache.get(url) === pending) cache.delete(url)
        throw err
      }
    },
  }
}
