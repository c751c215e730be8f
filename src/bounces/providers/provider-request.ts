import { createHash, timingSafeEqual } from 'node:crypto'

import type { MailEvent } from '../mail-event.ts'

/**
 * What the route hands a provider's verifier: the headers as Node parsed them and the body's bytes
 * exactly as received, since every signature is over those bytes (a re-serialised JSON would not match).
 */
export type ProviderRequest = {
  headers: Record<string, string | string[] | undefined>
  rawBody: Buffer
  url?: string
}

/**
 * A verified request's events (none, when the provider told us of opens, clicks or sends only), or why
 * it was refused: 401 when it cannot be shown to come from the provider, 400 when it does not parse.
 * `reason` is for the log and never holds a secret. `subscribeUrl` (SNS only) is the URL the caller
 * must GET to confirm a subscription; it has been checked to be an SNS URL.
 */
export type ProviderResult =
  { ok: true; events: MailEvent[]; subscribeUrl?: string } | { ok: false; status: 401 | 400; reason: string }

/** A refusal. */
export const reject = (status: 401 | 400, reason: string): ProviderResult => ({ ok: false, status, reason })

/** A header's first value, by name without case (Node lower-cases them; a test or proxy may not). */
export function headerValue(req: ProviderRequest, name: string): string | undefined {
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(req.headers)) {
    if (key.toLowerCase() !== wanted) continue
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) return first
  }
  return undefined
}

/** The body as JSON, or undefined when it is not JSON. */
export function parseJson(raw: Buffer | string): unknown {
  try {
    return JSON.parse(raw.toString()) as unknown
  } catch {
    return undefined
  }
}

/** A JSON object (not an array, not null). */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** A non-empty trimmed string, else undefined. */
export function text(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined
  const s = String(value).trim()
  return s === '' ? undefined : s
}

/** A diagnostic as MailEvent wants it: one line, at most 500 characters. */
export const oneLine = (value: unknown): string => (text(value) ?? '').replace(/\s+/g, ' ').slice(0, 500)

/** An address as MailEvent wants it: trimmed, without angle brackets, lower case. */
export const recipientOf = (value: unknown): string | undefined =>
  text(value)?.replace(/^<|>$/g, '').toLowerCase() || undefined

/**
 * The reference in an envelope sender `bounces+<ref>@domain`: whatever follows the first `+` of the
 * local part. Loose on purpose (any local part, any domain), since the caller checks the reference's
 * signature (return-path.ts verifyRef) and a wrong guess then changes nothing.
 */
export function refFromEnvelope(address: unknown): string | undefined {
  // SES may report `Sender Name <bounces+ref@domain>`: the address is what the brackets hold.
  const raw = text(address)
  const addr = recipientOf(/<([^<>]*)>\s*$/.exec(raw ?? '')?.[1] ?? raw)
  if (!addr) return undefined
  const at = addr.lastIndexOf('@')
  const local = at < 0 ? addr : addr.slice(0, at)
  const plus = local.indexOf('+')
  return plus < 0 ? undefined : text(local.slice(plus + 1))
}

/** The time a provider gives (ISO text, or Unix seconds as a number or digits), else `fallback`. */
export function timeOf(value: unknown, fallback: Date): Date {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))) {
    return new Date(Number(value) * 1000)
  }
  const ms = typeof value === 'string' ? Date.parse(value) : NaN
  return Number.isNaN(ms) ? fallback : new Date(ms)
}

/**
 * Compares two secrets in time that depends on neither: both are hashed first, so that even their
 * lengths are not measured.
 */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(given), digest(expected))
}
