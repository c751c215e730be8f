import fs from 'node:fs'
import path from 'node:path'

import { systemClock } from '../lib/clock.ts'

/** Thrown when another live process holds the embedded database. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
  constructor(
    readonly dataDir: string,
    readonly holder: { pid: number; purpose: string; since: string },
  ) {
    super(
      `The embedded database in ${dataDir} is in use by another process ` +
        `(pid ${holder.pid}, ${holder.purpose}, since ${holder.since}). ` +
        'PGlite serves one process at a time. Stop that process first, or point both at PostgreSQL ' +
        'with DATABASE_URL.',
    )
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes `DATA_DIR/pgdata.lock` for this process, or throws DataDirLockedError naming the holder.
 * A lock left by a dead process (a crash, SIGKILL) is taken over. Returns the release function.
 */
export function acquireDataDirLock(dataDir: string, purpose: string): () => void {
  const file = path.join(dataDir, 'pgdata.lock')
  const mine = JSON.stringify({ pid: process.pid, purpose, since: systemClock.now().toISOString() })
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, mine, { flag: 'wx' })
      let released = false
      const release = () => {
        if (released) return
        released = true
        process.removeListener('exit', release)
        try {
          if (fs.readFileSync(file, 'utf8') === mine) fs.unlinkSync(file)
        } catch {
          /* already gone */
        }
      }
      process.once('exit', release)
      return release
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      let holder: { pid: number; purpose: string; since: string }
      try {
        holder = JSON.parse(fs.readFileSync(file, 'utf8'))
      } catch {
        holder = { pid: 0, purpose: 'unknown', since: 'unknown' }
      }
      if (holder.pid && holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new DataDirLockedError(dataDir, holder)
      }
      fs.rmSync(file, { force: true }) // stale: its process is gone
    }
  }
  throw new Error(`Could not take the lock ${file}`)
}
