import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import zlib from 'node:zlib'

import { Kysely, PGliteDialect } from 'kysely'

import { PRIVATE_DIR_MODE } from '../lib/private-dir.ts'
import { migrateToLatest } from './migrate.ts'

/**
 * A new PGlite data folder, made once at build time (scripts/build.mjs): what `initdb` and this
 * build's migrations leave, packed as PGlite's own `dumpDataDir` writes it. PGlite's `initdb` runs
 * inside the process, and its memory, WebAssembly's, is never given back: a first start that ran
 * it peaked at about twice what a later start on the same folder does (docs/BENCHMARKS.md,
 * "Memory"). Unpacked into the folder before PGlite opens it, the first start is a later one.
 *
 * The file's name carries the PGlite version that wrote it: a process on another version finds
 * none and lets PGlite run `initdb` as before.
 */
const templateFile = (version: string) =>
  path.join(path.dirname(fileURLToPath(import.meta.url)), `pglite-template-${version}.tar.gz`)

/**
 * Fills `pgdata`, which must not exist yet, from the template, all at once: unpacked beside it and
 * renamed into place, so that a process killed midway leaves no half a database. Answers false,
 * and does nothing, when this build has no template for the installed PGlite.
 */
export function unpackTemplate(pgdata: string, file = templateFile(pgliteVersion())): boolean {
  if (!fs.existsSync(file)) return false
  // the caller holds the data folder's lock: no other process unpacks here, and what is here was left by a kill
  const staging = `${pgdata}.unpacking`
  fs.rmSync(staging, { recursive: true, force: true })
  fs.mkdirSync(staging, { mode: PRIVATE_DIR_MODE })
  for (const entry of tarEntries(zlib.gunzipSync(fs.readFileSync(file)))) {
    if (entry.name === '') continue // the folder itself
    const to = path.join(staging, entry.name)
    if (!to.startsWith(staging + path.sep)) throw new Error(`PGlite template: ${entry.name} is outside the folder`)
    if (entry.data === undefined) fs.mkdirSync(to, { recursive: true, mode: PRIVATE_DIR_MODE })
    else fs.writeFileSync(to, entry.data, { mode: 0o600 })
  }
  fs.renameSync(staging, pgdata)
  return true
}

/** Writes the template beside this module; scripts/build.mjs runs it on the compiled one. */
export async function writeTemplate(file = templateFile(pgliteVersion())): Promise<string> {
  const { PGlite } = await import('@electric-sql/pglite')
  const pglite = await PGlite.create()
  try {
    await migrateToLatest(new Kysely<unknown>({ dialect: new PGliteDialect({ pglite }) }))
    const dump = await pglite.dumpDataDir('gzip')
    fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()))
    return file
  } finally {
    await pglite.close()
  }
}

/**
 * The entries of a tar archive as `dumpDataDir` writes it: folders and plain files with short
 * names (ustar headers of 512 bytes, each file's bytes padded to 512). Anything else is refused
 * rather than half understood.
 */
function* tarEntries(tar: Buffer): Generator<{ name: string; data?: Buffer }> {
  const field = (at: number, length: number) => tar.toString('latin1', at, at + length).replace(/\0.*$/s, '')
  for (let at = 0; at + 512 <= tar.length;) {
    const name = field(at, 100)
    if (name === '') return // the archive ends with blocks of zeros
    const prefix = field(at + 345, 155)
    const size = parseInt(field(at + 124, 12).trim() || '0', 8)
    const type = field(at + 156, 1) || '0'
    const full = path.posix.join(prefix, name).replace(/^\/+/, '')
    const body = at + 512
    if (type === '5') yield { name: full }
    else if (type === '0') yield { name: full, data: tar.subarray(body, body + size) }
    else throw new Error(`PGlite template: entry ${full} of type ${type}`)
    at = body + Math.ceil(size / 512) * 512
  }
}

/** The installed PGlite's version: its package.json is not among its exports, so it is read from beside its entry. */
function pgliteVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')))
  for (;;) {
    const manifest = path.join(dir, 'package.json')
    if (fs.existsSync(manifest)) {
      const { name, version } = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string; version: string }
      if (name === '@electric-sql/pglite') return version
    }
    const up = path.dirname(dir)
    if (up === dir) throw new Error('@electric-sql/pglite: package.json not found')
    dir = up
  }
}
