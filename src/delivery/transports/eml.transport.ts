/**
 * Mail without a mail server: the embedded default (no `SMTP_URL`) writes each message as an
 * RFC 5322 `.eml` file under the data folder, and the settings page lists them as "sent" mail.
 * The bytes are the ones nodemailer would put on the wire, so a demo shows the real message.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

import nodemailer from 'nodemailer'

import { type Clock, systemClock } from '../../lib/clock.ts'
import { PRIVATE_DIR_MODE } from '../../lib/private-dir.ts'
import { decodeEncodedWords, parseHeaderBlock } from './mime-header.ts'
import { buildMailOptions, resultFromError, SMTP_SAFETY_OPTIONS } from './smtp.transport.ts'
import { ACCOUNT_HEADER, type EmailTransport } from './transport.ts'

export interface EmlTransportOptions {
  /** Folder for the `.eml` files; created on first use. */
  dir: string
  /** From for a mail whose own `from` is empty. */
  from?: string | undefined
  clock?: Clock | undefined
}

/** Creates the `.eml` transport. A write failure (disk full, permissions) is a retryable result. */
export function createEmlTransport(opts: EmlTransportOptions): EmailTransport {
  // `streamTransport` composes the message and hands it back instead of sending it.
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, ...SMTP_SAFETY_OPTIONS })
  const clock = opts.clock ?? systemClock
  return {
    async send(mail) {
      const built = buildMailOptions(mail, opts.from)
      if ('refused' in built) return built.refused
      try {
        const { message } = await composer.sendMail(built.options)
        if (!Buffer.isBuffer(message)) throw new Error('streamTransport returned no buffer')
        const file = emlFileName(clock.now(), mail.messageId)
        // the files hold live verification links: readable by the service's own user only
        await mkdir(opts.dir, { recursive: true, mode: PRIVATE_DIR_MODE })
        await writeAtomically(join(opts.dir, file), message)
        return { ok: true, retryable: false, detail: `written to ${file}` }
      } catch (err) {
        return resultFromError(err)
      }
    },
    async close() {
      composer.close()
    },
  }
}

/**
 * `2025-06-01T09-00-00.000Z_abc123@host.eml`: the ISO time first, so that names sort by time
 * (':' is not allowed in Windows file names); the id keeps to characters safe in any file system.
 */
function emlFileName(at: Date, messageId: string): string {
  const id = messageId
    .replace(/^<|>$/g, '')
    .replace(/[^A-Za-z0-9._@-]/g, '_')
    .slice(0, 120)
  return `${at.toISOString().replace(/:/g, '-')}_${id}.eml`
}

/** A reader never sees half a file: write a hidden temporary file beside it, then rename. */
async function writeAtomically(path: string, data: Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await writeFile(tmp, data, { flag: 'wx', mode: 0o600 })
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

export interface EmlFileSummary {
  /** File name inside the folder. */
  file: string
  messageId: string
  /** The To header as text, e.g. `Äiti Öljynen <aiti@example.fi>`. */
  to: string
  subject: string
  /** ISO time from the Date header (the file's time if the header is missing). */
  date: string
}

/**
 * The newest `limit` `.eml` files in `dir`, newest first; `[]` when `dir` does not exist yet.
 * With `accountId`, only the mail sent for that account (its {@link ACCOUNT_HEADER}): the folder
 * holds every account's mail, and one account must not see another's recipients and subjects.
 */
export async function listEmlFiles(
  dir: string,
  limit: number,
  only?: { accountId: string },
): Promise<EmlFileSummary[]> {
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.eml') && !n.startsWith('.'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const files = await Promise.all(names.map(async (file) => ({ file, mtimeMs: (await stat(join(dir, file))).mtimeMs })))
  // The name's time prefix is ms-precise; two mails within one ms fall back to the file time.
  files.sort((a, b) => b.file.slice(0, 24).localeCompare(a.file.slice(0, 24)) || b.mtimeMs - a.mtimeMs)
  const wanted = Math.max(0, limit)
  const found: EmlFileSummary[] = []
  // Newest first, a slice at a time, until enough of the account's mail is found: the account is
  // known only from each file's headers.
  const slice = Math.max(wanted, 1)
  for (let i = 0; i < files.length && found.length < wanted; i += slice) {
    const read = await Promise.all(files.slice(i, i + slice).map(({ file, mtimeMs }) => summarise(dir, file, mtimeMs)))
    for (const { account, summary } of read) if (!only || account === only.accountId) found.push(summary)
  }
  return found.slice(0, wanted)
}

// A header block larger than this is not one we wrote; the summary only needs the first headers.
const HEADER_BYTES = 64 * 1024

async function summarise(
  dir: string,
  file: string,
  mtimeMs: number,
): Promise<{ account: string; summary: EmlFileSummary }> {
  const handle = await open(join(dir, file), 'r')
  let head: string
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0)
    head = buffer.subarray(0, bytesRead).toString('utf8')
  } finally {
    await handle.close()
  }
  // The header block only, not the body; its encoded words (=?UTF-8?…?=) decoded for display.
  const end = head.search(/\r?\n\r?\n/)
  const fields = parseHeaderBlock(end < 0 ? head : head.slice(0, end))
  const field = (name: string) => decodeEncodedWords(fields.get(name) ?? '')
  const date = new Date(fields.get('date') ?? Number.NaN)
  const summary = {
    file,
    messageId: fields.get('message-id') ?? '',
    to: field('to'),
    subject: field('subject'),
    date: (Number.isNaN(date.getTime()) ? new Date(mtimeMs) : date).toISOString(),
  }
  return { account: fields.get(ACCOUNT_HEADER.toLowerCase()) ?? '', summary }
}
