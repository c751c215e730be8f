/**
 * Just enough MIME to read a bounce report: headers (folded, any case), multipart bodies (nested,
 * boundaries quoted or not), the four transfer encodings and a charset for the text we read.
 *
 * Why not mailparser: it is asynchronous (a stream), while parseBounceReport is synchronous and a
 * report is small; it hands back `message/delivery-status` and `text/rfc822-headers`, the very
 * parts we read, as attachments to be parsed again; and it would move its dependency tree into
 * production for ~150 lines of work. This
 * parser never throws on malformed input: it reads what it can and leaves out the rest. (The
 * header reader of delivery/transports/mime-header.ts keeps only the first of a repeated field;
 * a report may carry several references, so its encoded-word decoder is all we borrow.)
 *
 * Bodies are kept as latin1 strings, one character per byte, so offsets and boundaries are exact on
 * 8-bit data; `decodeText` turns a part's bytes into text by its charset.
 */
import { decodeEncodedWords } from '../delivery/transports/mime-header.ts'

/** Header fields in order; names lower case, values unfolded and decoded from UTF-8 when raw. */
export type Headers = { name: string; value: string }[]

/** One MIME entity: its headers, content type and body (still transfer-encoded, as bytes). */
export interface MimePart {
  headers: Headers
  /** `type/subtype`, lower case; `text/plain` when absent, as RFC 2045 says. */
  type: string
  params: Record<string, string>
  /** The body's raw bytes as a latin1 string. */
  body: string
  /** The parts of a multipart, [] otherwise. */
  parts: MimePart[]
}

// Limits, so that a hostile or huge message costs bounded work: multiparts nested deeper or with
// more parts than any real report has are not read further.
const MAX_DEPTH = 8
const MAX_PARTS = 200
const MAX_HEADER_FIELDS = 500

/** The first header value called `name` (lower case), if any. */
export function header(headers: Headers, name: string): string | undefined {
  return headers.find((h) => h.name === name)?.value
}

/** Every value of header `name` (lower case). */
export function headerAll(headers: Headers, name: string): string[] {
  return headers.filter((h) => h.name === name).map((h) => h.value)
}

/**
 * Header fields at the start of `text`, and where the body begins. The block ends at an empty line
 * or, leniently, at the first line that is neither a field nor a continuation (a truncated or
 * headers-only part has no empty line). `text` is raw bytes (latin1, as parseEntity reads a
 * message) or text already decoded by its charset (partText): raw 8-bit bytes are read as UTF-8.
 */
export function parseHeaders(text: string, form: 'bytes' | 'text'): { headers: Headers; bodyStart: number } {
  const headers: Headers = []
  let pos = 0
  while (pos < text.length && headers.length < MAX_HEADER_FIELDS) {
    const nl = text.indexOf('\n', pos)
    const end = nl === -1 ? text.length : nl
    const line = text.slice(pos, end).replace(/\r$/, '')
    const next = nl === -1 ? text.length : nl + 1
    if (line === '') return finish(headers, next, form)
    const last = headers[headers.length - 1]
    if (/^[ \t]/.test(line) && last) {
      last.value += ' ' + line.trim()
    } else {
      const m = /^([!-9;-~]+)[ \t]*:(.*)$/.exec(line)
      if (!m) return finish(headers, pos, form)
      headers.push({ name: m[1]!.toLowerCase(), value: m[2]!.trim() })
    }
    pos = next
  }
  return finish(headers, pos, form)
}

function finish(headers: Headers, bodyStart: number, form: 'bytes' | 'text'): { headers: Headers; bodyStart: number } {
  for (const h of headers) h.value = decodeHeaderValue(h.value, form)
  return { headers, bodyStart }
}

/** Raw UTF-8 (RFC 6532) in a field read as bytes, and RFC 2047 encoded words. */
function decodeHeaderValue(value: string, form: 'bytes' | 'text'): string {
  const raw = form === 'bytes' && /[\x80-\xff]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value
  return raw.includes('=?') ? decodeEncodedWords(raw) : raw
}

/** `type/subtype; a=b; c="d"` → the type (lower case) and its parameters (names lower case). */
function parseContentType(value: string | undefined): { type: string; params: Record<string, string> } {
  const params: Record<string, string> = {}
  if (!value) return { type: 'text/plain', params }
  const semi = value.indexOf(';')
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase()
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]*))/g
  for (let m = re.exec(value); m; m = re.exec(value)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!
  }
  return { type: /^[\w.+-]+\/[\w.+-]+$/.test(type) ? type : 'text/plain', params }
}

/** A message or body part, its multipart children parsed down to MAX_DEPTH. */
export function parseEntity(text: string, depth = 0, budget = { parts: MAX_PARTS }): MimePart {
  const { headers, bodyStart } = parseHeaders(text, 'bytes')
  const { type, params } = parseContentType(header(headers, 'content-type'))
  const body = text.slice(bodyStart)
  const part: MimePart = { headers, type, params, body, parts: [] }
  if (type.startsWith('multipart/') && params.boundary && depth < MAX_DEPTH) {
    for (const chunk of splitMultipart(body, params.boundary)) {
      if (--budget.parts < 0) break
      part.parts.push(parseEntity(chunk, depth + 1, budget))
    }
  }
  return part
}

/**
 * The bodies between `--boundary` lines. A missing closing delimiter (a truncated message) keeps
 * what came before the end; the preamble and epilogue are dropped.
 */
function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = '--' + boundary
  const chunks: string[] = []
  let start = -1
  let pos = 0
  while (pos <= body.length) {
    const nl = body.indexOf('\n', pos)
    const end = nl === -1 ? body.length : nl
    const line = body.slice(pos, end).replace(/\r$/, '')
    if (line.startsWith(delimiter)) {
      const rest = line.slice(delimiter.length)
      const closing = rest.startsWith('--')
      if (closing || rest.trim() === '') {
        // the line break before a delimiter belongs to the delimiter, not to the part
        if (start !== -1) chunks.push(body.slice(start, pos).replace(/\r?\n$/, ''))
        if (closing) return chunks
        start = end + 1
      }
    }
    if (nl === -1) break
    pos = nl + 1
  }
  if (start !== -1 && start < body.length) chunks.push(body.slice(start))
  return chunks
}

/** A part's body with its Content-Transfer-Encoding undone, as bytes (latin1). */
function decodedBody(part: MimePart): string {
  const cte = (header(part.headers, 'content-transfer-encoding') ?? '').trim().toLowerCase()
  if (cte === 'base64') return Buffer.from(part.body.replace(/[^A-Za-z0-9+/=_-]/g, ''), 'base64').toString('latin1')
  if (cte === 'quoted-printable') return decodeQuotedPrintable(part.body)
  return part.body
}

function decodeQuotedPrintable(text: string): string {
  return text
    .replace(/[ \t]*=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
}

/** Bytes (latin1) as text in `charset`; UTF-8 when the charset is absent or unknown. */
function decodeText(bytes: string, charset = 'utf-8'): string {
  const buf = Buffer.from(bytes, 'latin1')
  try {
    return new TextDecoder(charset.trim().toLowerCase()).decode(buf)
  } catch {
    return buf.toString('utf8')
  }
}

/** A part's text: transfer encoding undone, then its charset. */
export function partText(part: MimePart): string {
  return decodeText(decodedBody(part), part.params.charset)
}

/** Every part of the tree, depth first, the root first. */
export function walk(part: MimePart): MimePart[] {
  return [part, ...part.parts.flatMap(walk)]
}
