import { createHash } from 'node:crypto'
import fs from 'node:fs'

import type { CsvFormat } from './csv-formats.ts'

/**
 * Where an interrupted import stopped: `<FILE>.progress.json`, rewritten (atomically) after each
 * batch that committed with all the batches before it. A rerun resumes after `line` when the file
 * is still the same one: same size, modification time and hash of its first megabyte.
 */
export interface Checkpoint {
  version: 1
  file: FileIdentity
  /** The encoding the file was read in (absent: UTF-8); a resume in another starts over. */
  encoding?: string
  format: CsvFormat
  /** The last line of the file whose rows are all committed (or rejected). */
  line: number
  /** Rows read up to `line`. */
  rows: number
  /** The rejects file and its size at `line`. */
  rejects: { path: string; bytes: number }
  /** The counts so far, so that the final summary covers the interrupted run too. */
  tally: Record<string, number>
}

export interface FileIdentity {
  size: number
  mtimeMs: number
  head: string
}

export const checkpointPath = (file: string) => `${file}.progress.json`

/** What identifies the file's content cheaply, without reading all of it. */
export function fileIdentity(file: string): FileIdentity {
  const stat = fs.statSync(file)
  const fd = fs.openSync(file, 'r')
  try {
    const buf = Buffer.alloc(Math.min(stat.size, 1 << 20))
    fs.readSync(fd, buf, 0, buf.length, 0)
    return { size: stat.size, mtimeMs: stat.mtimeMs, head: createHash('sha256').update(buf).digest('hex') }
  } finally {
    fs.closeSync(fd)
  }
}

const sameFile = (a: FileIdentity, b: FileIdentity) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.head === b.head

/**
 * The checkpoint of an interrupted import of this very file, if there is one. `stale` says that
 * one exists but belongs to another version of the file (and is ignored).
 */
export function loadCheckpoint(file: string, identity: FileIdentity): { checkpoint?: Checkpoint; stale?: boolean } {
  let json: Checkpoint
  try {
    json = JSON.parse(fs.readFileSync(checkpointPath(file), 'utf8')) as Checkpoint
  } catch {
    return {}
  }
  if (json?.version !== 1 || !json.file || !sameFile(json.file, identity)) return { stale: true }
  return { checkpoint: json }
}

export function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  const target = checkpointPath(file)
  const tmp = `${target}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(checkpoint))
  fs.renameSync(tmp, target) // atomic: a kill never leaves half a checkpoint
}

export function removeCheckpoint(file: string): void {
  fs.rmSync(checkpointPath(file), { force: true })
}
