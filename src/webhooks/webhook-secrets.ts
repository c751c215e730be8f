import { createHmac, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/**
 * Endpoint secrets are derived, not stored: `whsec_` + HMAC(SECRET_KEY, endpoint id). The database
 * then holds nothing that can sign a webhook, and every worker process that has SECRET_KEY signs
 * the same way.
 */
export function createSecretDeriver(masterKey: string) {
  return {
    secretFor(endpointId: string): string {
      const key = createHmac('sha256', masterKey).update(`webhook-endpoint:${endpointId}`).digest()
      return `whsec_${key.toString('base64')}`
    },
  }
}
export type SecretDeriver = ReturnType<typeof createSecretDeriver>

/**
 * The master key: SECRET_KEY when set (required when several processes share a database), else a
 * random key kept in DATA_DIR/secret-key, made on first use (a single embedded process).
 */
export function resolveMasterKey(secretKey: string | undefined, dataDir: string): string {
  if (secretKey) return secretKey
  const file = path.join(dataDir, 'secret-key')
  try {
    return fs.readFileSync(file, 'utf8').trim()
  } catch {
    fs.mkdirSync(dataDir, { recursive: true })
    const key = randomBytes(32).toString('base64url')
    fs.writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' })
    return key
  }
}
