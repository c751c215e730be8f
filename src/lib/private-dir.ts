import fs from 'node:fs'

/**
 * Owner-only access for folders that hold secrets: DATA_DIR keeps the master key, the demo key,
 * the embedded database and the demo mail (whose verification links are live). Under the usual
 * umask 022 a plain mkdir would let every local user read them.
 */
export const PRIVATE_DIR_MODE = 0o700

/** Creates `dir` (and missing parents) owner-only; an existing folder is left as the operator made it. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
}

/**
 * Creates `dir` owner-only, or narrows it to owner-only when it exists: for folders that are ours
 * alone (the embedded database's pgdata), including ones made world-readable by older releases.
 */
export function makePrivateDir(dir: string): void {
  ensurePrivateDir(dir)
  fs.chmodSync(dir, PRIVATE_DIR_MODE)
}
