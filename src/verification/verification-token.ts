/**
 * The verification link's token, and how it stays out of the database. The token is derived,
 * like a webhook secret: `acv_<account>.<verification id>.<HMAC(SECRET_KEY, both)>`, and only its
 * hash is stored. The queued mail (the outbox row) carries a placeholder in its place, which the
 * worker fills in as it sends: whoever reads the database learns no link that verifies an address.
 */
import type { SecretDeriver } from '../webhooks/webhook-secrets.ts'

/** Any token we issued: the account id, then at least 20 more characters (older tokens had no id part). */
export const TOKEN = /^acv_([A-Za-z0-9_-]{1,64})\.[A-Za-z0-9_.-]{20,}$/

const PLACEHOLDER = /\{\{acv:([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})\}\}/g

/** What the queued mail holds where the token goes. */
export const tokenPlaceholder = (accountId: string, verificationId: string) => `{{acv:${accountId}/${verificationId}}}`

/** The mail as sent: every placeholder replaced by its token. */
export const fillTokens = (text: string, secrets: Pick<SecretDeriver, 'verificationToken'>) =>
  text.replace(PLACEHOLDER, (_, accountId: string, id: string) => secrets.verificationToken(accountId, id))
