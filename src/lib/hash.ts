import { createHash } from 'node:crypto'

/**
 * Tokens (API keys, sessions) carry 192 random bits, so a plain SHA-256 is enough to store them:
 * a slow password hash would protect nothing more and cost every request.
 */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex')
