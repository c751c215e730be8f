import { timingSafeEqual } from 'node:crypto'

import type { SecretDeriver } from '../lib/derived-secrets.ts'

/**
 * The token of a mail's "Not the right person?" link: `acr_<account>.<delivery>.<signature>`, the
 * two ids in base64url (a delivery id holds dots), the signature derived from SECRET_KEY. It names
 * the one delivery the link came in, so the request knows which mail, which address and which
 * slots it is about, and nobody can make one for a mail they did not receive. Nothing is stored:
 * the worker derives it as it sends, and a request is taken once per delivery (the table's key).
 */
const TOKEN = /^acr_([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{22})$/

/** How long a link works after its mail was queued: long enough for a monthly invoice to be read late. */
export const CORRECTION_LINK_DAYS = 60

type Signer = Pick<SecretDeriver, 'correctionLinkSignature'>

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url')

export const correctionToken = (secrets: Signer, accountId: string, deliveryId: string): string =>
  `acr_${b64(accountId)}.${b64(deliveryId)}.${secrets.correctionLinkSignature(accountId, deliveryId)}`

/** The delivery a token names, when its signature holds; else undefined. */
export function verifyCorrectionToken(
  secrets: Signer,
  token: string,
): { accountId: string; deliveryId: string } | undefined {
  const m = TOKEN.exec(token.trim())
  if (!m) return undefined
  const accountId = Buffer.from(m[1]!, 'base64url').toString('utf8')
  const deliveryId = Buffer.from(m[2]!, 'base64url').toString('utf8')
  const want = Buffer.from(secrets.correctionLinkSignature(accountId, deliveryId))
  const got = Buffer.from(m[3]!)
  return want.length === got.length && timingSafeEqual(want, got) ? { accountId, deliveryId } : undefined
}

/** The page the link opens: a GET that changes nothing (mail scanners open every link). */
export const correctionLinkUrl = (publicUrl: string, token: string) =>
  `${publicUrl}/v1/not-the-right-person?token=${token}`
