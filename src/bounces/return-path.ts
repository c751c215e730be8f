import { timingSafeEqual } from 'node:crypto'

import type { SecretDeriver } from '../lib/derived-secrets.ts'

/**
 * The reference that ties a report back to one delivery: `<token>.<signature>`, where the token is
 * the delivery's random `return_token` (32 hex digits, set when it is first claimed) and the
 * signature is derived from SECRET_KEY. It rides in the envelope sender
 * (`bounces+<ref>@mail.example.com`, so a DSN comes back to it), in the `X-Account-Contacts-Ref`
 * header and in the email service's metadata. Anyone without the key cannot make a reference that
 * passes; the token itself cannot be guessed; and both are lower case, as some servers fold the
 * case of an address.
 */
const REF = /^([0-9a-f]{32})\.([0-9a-f]{12})$/

/**
 * How long a reference is taken: a report about a delivery created longer ago is refused as
 * 'unmatched' (and logged). Email services report within minutes, and a DSN comes within the
 * sending server's retry time (five days at most, RFC 5321's suggestion); an older reference is a
 * replay of a kept request or a leaked header, not news about a mailbox.
 */
export const REF_LIFETIME_DAYS = 30

/** The header that carries the reference on every mail, for services that report headers. */
export const REF_HEADER = 'X-Account-Contacts-Ref'

export function signRef(secrets: Pick<SecretDeriver, 'returnPathSignature'>, token: string): string {
  return `${token}.${secrets.returnPathSignature(token)}`
}

/** The token of a reference whose signature holds, else undefined. */
export function verifyRef(
  secrets: Pick<SecretDeriver, 'returnPathSignature'>,
  ref: string | undefined,
): string | undefined {
  const m = REF.exec((ref ?? '').trim().toLowerCase())
  if (!m) return undefined
  const want = Buffer.from(secrets.returnPathSignature(m[1]!))
  const got = Buffer.from(m[2]!)
  return want.length === got.length && timingSafeEqual(want, got) ? m[1] : undefined
}

/** `bounces@mail.example.com` and a reference → `bounces+<ref>@mail.example.com`. */
export function returnPathAddress(base: string, ref: string): string {
  const at = base.lastIndexOf('@')
  return `${base.slice(0, at)}+${ref}${base.slice(at)}`
}

/**
 * The reference in an address built by returnPathAddress from `base` (compared without case), or
 * undefined for any other address. The signature is not checked here: verifyRef does that.
 */
export function refFromAddress(base: string, address: string): string | undefined {
  const at = base.lastIndexOf('@')
  const local = base.slice(0, at).toLowerCase()
  const domain = base.slice(at + 1).toLowerCase()
  const m = /^(.+)\+([^+@]+)@([^@]+)$/.exec(address.trim().replace(/^<|>$/g, '').toLowerCase())
  if (!m || m[1] !== local || m[3] !== domain) return undefined
  return m[2]
}

/** The longest local part MAIL_RETURN_PATH may have: with `+<ref>` it must stay within RFC 5321's 64. */
export const RETURN_PATH_LOCAL_MAX = 64 - 1 - 45
