/**
 * The verification link's token, and how it stays out of the database. The token is derived,
 * like a webhook secret: `acv_<account>.<verification id>.<HMAC(SECRET_KEY, both)>`, and only its
 * hash is stored. The queued mail (the outbox row) carries a mark in its place, which the worker
 * fills in as it sends: whoever reads the database learns no link that verifies an address.
 *
 * Which token fills the mark is never read from the text: a mail's text holds names users chose,
 * and a mark that named its verification would let anyone who can put words in a mail have the
 * worker mint a token of their choosing. The verification and its mail are made together, the
 * verification's id from the notification's, and only a mail of the verification category, which
 * no platform call can send, is filled, with the token of its own verification.
 */
import type { SecretDeriver } from '../lib/derived-secrets.ts'

/** Any token we issued: the account id, then at least 20 more characters (older tokens had no id part). */
export const TOKEN = /^acv_([A-Za-z0-9_-]{1,64})\.[A-Za-z0-9_.-]{20,}$/

/** The category of the verification mail; system mail only (not among the sendable categories). */
export const VERIFY_EMAIL_CATEGORY = 'verify_email'

/** What the queued verification mail holds where the token goes. */
export const TOKEN_MARK = '{{verification-token}}'

/** The id of the verification whose mail is notification `notificationId` (`ntf_X` → `ver_X`). */
export const verificationIdFor = (notificationId: string) =>
  `ver_${notificationId.slice(notificationId.indexOf('_') + 1)}`

/**
 * The mail's text as sent: in the verification mail, the mark replaced by the token of the
 * verification made with it; any other mail is sent as it is.
 */
export function fillToken(
  text: string,
  mail: { category: string; accountId: string; notificationId: string },
  secrets: Pick<SecretDeriver, 'verificationToken'>,
): string {
  if (mail.category !== VERIFY_EMAIL_CATEGORY) return text
  return text.replaceAll(TOKEN_MARK, secrets.verificationToken(mail.accountId, verificationIdFor(mail.notificationId)))
}
