/**
 * Reading back the header block of a message we composed (the `.eml` demo mail): unfolding into
 * fields (RFC 5322 2.2.3) and decoding RFC 2047 encoded words (`=?UTF-8?Q?=C3=84iti?=`). Nodemailer
 * writes messages but has no reader, and mailparser is a development dependency only.
 */

/** The header fields of `block` (the text before the first empty line), by lower-case name; the first of a repeated field wins. */
export function parseHeaderBlock(block: string): Map<string, string> {
  const fields = new Map<string, string>()
  // A line that starts with a space or a tab continues the field above it; unfolding removes only the line break.
  for (const line of block.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim())
  }
  return fields
}

// charset, an optional RFC 2231 language after '*', the encoding, the encoded text
const ENCODED_WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g

interface Run {
  charset: string
  bytes: Buffer[]
  /** The words as written, shown when the charset is one we cannot decode. */
  raw: string
}

/**
 * `value` with its encoded words decoded. Whitespace between two encoded words is dropped (RFC 2047
 * 6.2), and adjacent words of one charset are decoded together, so a character whose bytes an
 * encoder split over two words comes out whole. A word in an unknown charset stays as written.
 */
export function decodeEncodedWords(value: string): string {
  let out = ''
  let run: Run | undefined
  let end = 0 // where the previous encoded word ended
  const flush = () => {
    if (run) out += decodeRun(run)
    run = undefined
  }
  for (const m of value.matchAll(ENCODED_WORD)) {
    const word = m[0]
    const charset = m[1]!.toLowerCase()
    const text = m[3]!
    const between = value.slice(end, m.index)
    const joined = run !== undefined && /^[ \t\r\n]*$/.test(between)
    const bytes = m[2]!.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : qBytes(text)
    if (joined && run!.charset === charset) {
      run!.bytes.push(bytes)
      run!.raw += word
    } else {
      flush()
      if (!joined) out += between
      run = { charset, bytes: [bytes], raw: word }
    }
    end = m.index + word.length
  }
  flush()
  return out + value.slice(end)
}

/** The Q encoding (RFC 2047 4.2): '_' is a space, `=XX` a byte, any other character itself. */
function qBytes(text: string): Buffer {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    const hex = c === '=' ? text.slice(i + 1, i + 3) : ''
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16))
      i += 2
    } else {
      bytes.push(c === '_' ? 0x20 : c.charCodeAt(0) & 0xff)
    }
  }
  return Buffer.from(bytes)
}

function decodeRun(run: Run): string {
  const bytes = Buffer.concat(run.bytes)
  try {
    return new TextDecoder(run.charset).decode(bytes)
  } catch {
    return run.raw // RangeError: a charset the runtime does not know
  }
}
