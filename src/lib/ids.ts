import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

let lastMs = 0
let seq = 0

/**
 * A time-ordered id (48-bit milliseconds + 16-bit sequence + 64 random bits, base32): sorting ids
 * as text sorts them by creation, which the cursor pagination of audit events relies on. Ids are
 * made by the application, never by a database sequence, so the schema can be distributed.
 */
export function newId(prefix: string): string {
  const now = Date.now()
  if (now > lastMs) {
    lastMs = now
    seq = 0
  } else {
    seq++ // same millisecond (or the clock stepped back): keep the order within this process
  }
  let out = ''
  let t = lastMs
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out
    t = Math.floor(t / 32)
  }
  let s = seq & 0xfffff
  let seqPart = ''
  for (let i = 0; i < 4; i++) {
    seqPart = ALPHABET[s % 32] + seqPart
    s >>= 5
  }
  const rnd = randomBytes(8)
  let rand = ''
  for (const b of rnd) rand += ALPHABET[b % 32]
  return `${prefix}_${out}${seqPart}${rand}`
}

/** A secret of `bytes` random bytes, base64url. 24 bytes = 192 bits. */
export function newSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url')
}
