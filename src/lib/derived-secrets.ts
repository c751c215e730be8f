import { createHmac, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

import { ensurePrivateDir } from './private-dir.ts'

/**
 * Secrets derived, not stored: endpoint secrets are `whsec_` + HMAC(SECRET_KEY, endpoint id), and
 * verification tokens end in HMAC(SECRET_KEY, account and verification id). The database then
 * holds nothing that can sign a webhook or verify an address, and every process that has
 * SECRET_KEY derives the same ones.
 */
export function createSecretDeriver(masterKey: string) {
  const mac = (purpose: string) => createHmac('sha256', masterKey).update(purpose).digest()
  return {
    secretFor(endpointId: string): string {
      return `whsec_${mac(`webhook-endpoint:${endpointId}`).toString('base64')}`
    },
    verificationToken(accountId: string, verificationId: string): string {
      return `acv_${accountId}.${verificationId}.${mac(`email-verification:${accountId}/${verificationId}`).toString('base64url')}`
    },
    /** The signature half of a return-path reference (bounces/return-path.ts): lower-case hex, as mail servers may fold case. */
    returnPathSignature(token: string): string {
      return mac(`return-path:${token}`).toString('hex').slice(0, 12)
    },
    /** The signature of a "Not the right person?" link (corrections/correction-link.ts): 128 bits. */
    correctionLinkSignature(accountId: string, deliveryId: string): string {
      return mac(`correction-link:${accountId}/${deliveryId}`).toString('base64url').slice(0, 22)
    },
  }
}
export type SecretDeriver = ReturnType<typeof createSecretDeriver>

/**
 * The master key: SECRET_KEY when set (loadConfig requires it with DATABASE_URL, where several
 * processes share the database), else a random key kept in DATA_DIR/secret-key, made on first use
 * (the single process of an embedded database).
 */
export function resolveMasterKey(secretKey: string | undefined, dataDir: string): string {
  if (secretKey) return secretKey
  const file = path.join(dataDir, 'secret-key')
  try {
    return fs.readFileSync(file, 'utf8').trim()
  } catch {
    ensurePrivateDir(dataDir)
    const key = randomBytes(32).toString('base64url')
    fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' })
    return key
  }
}
