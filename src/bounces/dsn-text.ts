/**
 * Bounces that are not RFC 3464 reports but prose: qmail's, Exim's, and a generic reader for the
 * rest (an SMTP reply code next to an address, in a mail from MAILER-DAEMON with a bounce-like
 * subject). Each returns undefined when its form does not fit, so the next can try.
 */
import type { BounceRecipient } from './dsn.ts'
import { classifyFailure, findReplyCode, findStatus, oneLine } from './dsn-classify.ts'
import { header, type Headers, type MimePart, parseHeaders, partText, walk } from './dsn-mime.ts'
import { bareAddress } from './dsn-report.ts'

/** A bounce's prose, split from the copy of the returned message that follows it (if any). */
export interface BounceText {
  human: string
  returned: Headers | undefined
}

// The lines that introduce the copy of the returned message: qmail's "--- Below this line is a
// copy of the message.", Exim's "------ This is a copy of the message, including all the
// headers. ------", and the like from other servers.
const COPY_MARKER =
  /^[ \t]*-{2,}[ \t]*(?:below this line is a copy|this is a copy of the message|original message|(?:original |returned )?message headers? follows?|start of returned message)[^\n]*$/im

const MAX_RECIPIENTS = 100
const ADDRESS_LINE = /^<([^<>\s]+@[^<>\s]+)>:[ \t]*$/

/** Splits a bounce's text at the copy marker and reads the returned headers after it. */
export function splitBounceText(text: string): BounceText {
  const m = COPY_MARKER.exec(text)
  if (!m) return { human: text, returned: undefined }
  const rest = text.slice(m.index + m[0].length).replace(/^(?:[ \t]*\r?\n)+/, '')
  const { headers } = parseHeaders(rest, 'text')
  return { human: text.slice(0, m.index), returned: headers.length ? headers : undefined }
}

/**
 * qmail: "Hi. This is the qmail-send program at …", then for each recipient `<addr>:` on a line
 * of its own followed by what the remote server (or the local delivery) answered.
 */
export function readQmail(human: string): BounceRecipient[] | undefined {
  if (!/^\s*Hi\. This is the qmail-send program/i.test(human.slice(0, 500))) return undefined
  // qmail bounces only what it gave up on: for good, or after a temporary failure too long
  const fallback = /in the queue too long/i.test(human) ? 'soft_bounce' : 'hard_bounce'
  const out: BounceRecipient[] = []
  let current: { recipient: string; lines: string[] } | undefined
  const flush = () => {
    if (current && out.length < MAX_RECIPIENTS) out.push(failure(current.recipient, current.lines.join(' '), fallback))
    current = undefined
  }
  for (const line of human.split(/\r?\n/)) {
    const m = ADDRESS_LINE.exec(line.trim())
    if (m) {
      flush()
      current = { recipient: m[1]!.toLowerCase(), lines: [] }
    } else if (current && line.trim() === '') flush()
    else current?.lines.push(line)
  }
  flush()
  return out
}

/**
 * Exim: "This message was created automatically by mail delivery software.", a line ending in
 * "failed:" (or, for a delay warning, "has not yet been delivered is:"/"are:"), then each address
 * indented on its own line with its details indented further below it.
 */
export function readExim(human: string): BounceRecipient[] | undefined {
  if (!/^\s*This message was created automatically by mail delivery software/i.test(human.slice(0, 500))) {
    return undefined
  }
  const fallback = /has not yet been delivered/i.test(human) ? 'soft_bounce' : 'hard_bounce'
  const lines = human.split(/\r?\n/)
  const start = lines.findIndex((l) => /(?:failed|delivered (?:is|are)):\s*$/i.test(l))
  if (start === -1) return []
  const out: BounceRecipient[] = []
  let current: { recipient: string; indent: number; lines: string[] } | undefined
  const flush = () => {
    if (current && out.length < MAX_RECIPIENTS) out.push(failure(current.recipient, current.lines.join(' '), fallback))
    current = undefined
  }
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') continue
    const indent = /^[ \t]*/.exec(line)![0].length
    // a paragraph at the margin ends the list
    if (indent === 0) break
    const addr = /^[ \t]+<?([^\s<>@]+@[^\s<>@]+?)>?[ \t]*(?:\(.*\))?[ \t]*$/.exec(line)
    if (addr && (!current || indent <= current.indent)) {
      flush()
      current = { recipient: addr[1]!.toLowerCase(), indent, lines: [] }
    } else current?.lines.push(line)
  }
  flush()
  return out
}

// Who sends bounces, and what they call them.
const DAEMON_LOCAL = /^(?:mailer-daemon|mailer_daemon|mailerdaemon|postmaster|mail-daemon)$/i
const DAEMON_NAME = /mail delivery (?:subsystem|system|service)|mailer.daemon/i
const BOUNCE_SUBJECT =
  /undeliver|not (?:be )?delivered|delivery (?:status|fail|problem|notification|report)|returned mail|failure notice|delivery has failed|non-?delivery|rejected|could not be delivered|bounced?\b|unzustellbar|nicht zugestellt|non remis|non distribuable/i

/**
 * The fallback: in a mail from MAILER-DAEMON or postmaster with a bounce-like subject, each
 * address paired with the first SMTP reply code or enhanced status on its line or the lines after
 * it, up to the next address or GENERIC_WINDOW lines. Addresses of the bounce itself (its From
 * and To, any daemon's) are not recipients.
 */
export function readGeneric(headers: Headers, human: string): BounceRecipient[] | undefined {
  const from = header(headers, 'from') ?? ''
  const fromAddr = bareAddress(from)
  const fromDaemon = DAEMON_LOCAL.test(fromAddr?.split('@')[0] ?? '') || DAEMON_NAME.test(from)
  if (!fromDaemon || !BOUNCE_SUBJECT.test(header(headers, 'subject') ?? '')) return undefined
  const ours = new Set([fromAddr, bareAddress(header(headers, 'to') ?? '')])
  const candidates = (line: string) =>
    (line.match(/[^\s<>"',;:()[\]]+@[^\s<>"',;:()[\]]+/g) ?? [])
      .map(bareAddress)
      .filter((a): a is string => !!a && !ours.has(a) && !DAEMON_LOCAL.test(a.split('@')[0]!))
  const lines = human.split(/\r?\n/).slice(0, 2000)
  const found = new Map<string, BounceRecipient>()
  for (let i = 0; i < lines.length && found.size < MAX_RECIPIENTS; i++) {
    const here = candidates(lines[i]!).filter((a) => !found.has(a))
    if (here.length === 0) continue
    for (let j = i; j < Math.min(lines.length, i + GENERIC_WINDOW); j++) {
      if (j > i && candidates(lines[j]!).length > 0) break
      if (!codeIn(lines[j]!)) continue
      for (const a of here) found.set(a, failure(a, lines[j]!, 'hard_bounce'))
      break
    }
  }
  return [...found.values()]
}

// How far below an address its reason may be: an Exchange-style report puts a paragraph between.
const GENERIC_WINDOW = 10

function codeIn(line: string): boolean {
  return findStatus(line) !== undefined || findReplyCode(line) !== undefined
}

function failure(recipient: string, text: string, fallback: 'hard_bounce' | 'soft_bounce'): BounceRecipient {
  const diagnostic = oneLine(text)
  const status = findStatus(diagnostic)
  const kind = classifyFailure(status, diagnostic, fallback)
  return { recipient, kind, ...(status ? { status } : {}), diagnostic }
}

/** The text a reader reads: the first text/plain part, else the first text/html part without its tags. */
export function mainText(root: MimePart): string | undefined {
  const parts = walk(root)
  const plain = parts.find((p) => p.type === 'text/plain')
  if (plain) return partText(plain)
  const html = parts.find((p) => p.type === 'text/html')
  if (!html) return undefined
  return partText(html)
    .replace(/<br\s*\/?>|<\/(?:p|div|tr|li|h\d)>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}
