import { isAscii, isUtf8 } from 'node:buffer'
import fs from 'node:fs'
import path from 'node:path'

import { CsvFormatError } from './csv-formats.ts'

/*
 * A CSV file's text encoding: UTF-8 unless its byte-order mark or `--encoding` says otherwise.
 * Bytes that are not valid in the encoding refuse the whole file before anything lands (a
 * replacement character stored for every ä would be permanent, and quiet).
 */

/** The encodings `--encoding` is documented with; any other label Node's TextDecoder knows works too. */
const COMMON_ENCODINGS = ['utf-8', 'windows-1252', 'latin1', 'iso-8859-15', 'utf-16le', 'utf-16be'] as const

const BOMS: [Buffer, string][] = [
  [Buffer.from([0xef, 0xbb, 0xbf]), 'utf-8'],
  [Buffer.from([0xff, 0xfe]), 'utf-16le'],
  [Buffer.from([0xfe, 0xff]), 'utf-16be'],
]

/** How the encoding was decided, for the line that tells the person at the terminal. */
export interface FileEncoding {
  /** The WHATWG name (`latin1` is `windows-1252` there, a superset). */
  encoding: string
  because: 'byte-order mark' | '--encoding' | 'default'
}

/** Names an encoding by a label (`latin1`, `UTF-8`, `cp1252`...), or refuses one TextDecoder does not know. */
export function encodingNamed(label: string): string {
  try {
    return new TextDecoder(label.replace(/^cp(125\d)$/i, 'windows-$1')).encoding
  } catch {
    throw new CsvFormatError(
      `--encoding "${label}" is not an encoding this importer knows; it reads ${COMMON_ENCODINGS.join(', ')} and the other WHATWG encodings.`,
    )
  }
}

/** The encoding of a file that starts with `head`: its byte-order mark's, else `label`'s, else UTF-8. */
function chooseEncoding(head: Buffer, label?: string): FileEncoding {
  const bom = BOMS.find(([mark]) => head.subarray(0, mark.length).equals(mark))
  if (bom) return { encoding: bom[1], because: 'byte-order mark' }
  if (label !== undefined) return { encoding: encodingNamed(label), because: '--encoding' }
  return { encoding: 'utf-8', because: 'default' }
}

const isUtf16 = (encoding: string) => encoding.startsWith('utf-16')

/**
 * Where the first invalid UTF-8 sequence of `buf` starts (-1: none), by the rules TextDecoder
 * and `isUtf8` apply: no overlong forms, no surrogates, nothing past U+10FFFF. A sequence cut
 * off by the end of `buf` counts as invalid only when `final`.
 */
function invalidUtf8At(buf: Uint8Array, final: boolean): number {
  for (let i = 0; i < buf.length;) {
    const b = buf[i]!
    if (b < 0x80) {
      i++
      continue
    }
    const n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (n === 0) return i
    // the second byte's range depends on the first (overlongs, surrogates, past U+10FFFF)
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf
    for (let k = 1; k < n; k++) {
      if (i + k >= buf.length) return final ? i : -1
      const c = buf[i + k]!
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i
    }
    i += n
  }
  return -1
}

/** The bytes a cut-off UTF-8 sequence at the end of `buf` has (0-3), to carry to the next chunk. */
function cutOff(buf: Buffer): number {
  for (let k = 1; k <= Math.min(3, buf.length); k++) {
    const b = buf[buf.length - k]!
    if (b < 0x80) return 0
    if (b >= 0xc0) return (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > k ? k : 0
  }
  return 0
}

const hex = (b: number) => b.toString(16).toUpperCase().padStart(2, '0')

/**
 * The refusal of a file that is not UTF-8: the line (counted from `linesBefore`, the line breaks
 * ahead of `chunk`), the byte, and that line read as windows-1252, the likeliest encoding.
 */
function notUtf8(chunk: Buffer, found: number, linesBefore: number, because: FileEncoding['because']): CsvFormatError {
  const at = Math.max(0, found) // isUtf8 and invalidUtf8At apply the same rules; 0 should they ever differ
  let line = linesBefore + 1
  for (let i = chunk.indexOf(10); i !== -1 && i < at; i = chunk.indexOf(10, i + 1)) line++
  // the line from its start (or a little before the byte, on a long line), up to 120 bytes
  const from = Math.max(chunk.lastIndexOf(10, at) + 1, at - 60)
  const lineEnd = chunk.indexOf(10, at)
  const to = Math.min(lineEnd === -1 ? chunk.length : lineEnd, from + 120)
  const shown = new TextDecoder('windows-1252').decode(chunk.subarray(from, to)).replace(/\r$/, '')
  return new CsvFormatError(
    `The file is not UTF-8${because === '--encoding' ? ' (as --encoding said it is)' : ''}: line ${line.toLocaleString('en-US')} has the byte ${hex(chunk[at]!)}, ` +
      `which UTF-8 cannot have there. Read as windows-1252 (what Excel on Windows saves as "CSV"), that line says "${shown}". ` +
      `If that is right, import the file with --encoding windows-1252 (or save it as "CSV UTF-8"). Nothing was imported.`,
  )
}

/**
 * Reads the whole file once before the import starts: checks that every byte is valid in its
 * encoding (else throws a CsvFormatError naming the line), and counts its rows roughly (line
 * breaks less the header) for the progress bar. `alsoUtf8`: a file read in another encoding has
 * letters outside ASCII and is valid UTF-8 too, which it almost surely is. Memory stays flat.
 */
export async function checkFile(file: string, chosen: FileEncoding): Promise<{ rows: number; alsoUtf8: boolean }> {
  let lines = 0
  // whether a file said to be in a one-byte encoding is UTF-8 after all (its ä would become Ã¤)
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  let alsoUtf8 = !isUtf16(chosen.encoding)
  let nonAscii = false
  let lastLf = true
  let sawText = false
  if (chosen.encoding === 'utf-8') {
    let carry: Buffer = Buffer.alloc(0)
    for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
      const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk
      const body = buf.subarray(0, buf.length - cutOff(buf))
      carry = Buffer.from(buf.subarray(body.length))
      if (!isUtf8(body)) throw notUtf8(body, invalidUtf8At(body, true), lines, chosen.because)
      for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) lines++
      if (body.length > 0) {
        sawText = true
        lastLf = body[body.length - 1] === 10
      }
    }
    if (carry.length > 0) throw notUtf8(carry, 0, lines, chosen.because)
  } else {
    const decoder = new TextDecoder(chosen.encoding, { fatal: true })
    const read = (chunk?: Buffer) => {
      if (alsoUtf8) {
        try {
          if (chunk) utf8.decode(chunk, { stream: true })
          else utf8.decode()
        } catch {
          alsoUtf8 = false
        }
        nonAscii ||= chunk !== undefined && !isAscii(chunk)
      }
      let text: string
      try {
        text = chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode()
      } catch {
        throw new CsvFormatError(
          `The file is not valid ${chosen.encoding} (${chosen.because === '--encoding' ? 'as --encoding said' : 'as its byte-order mark says'}): after line ${(lines + 1).toLocaleString('en-US')} it has bytes that encoding cannot have. Nothing was imported.`,
        )
      }
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++
      if (text.length > 0) {
        sawText = true
        lastLf = text.endsWith('\n')
      }
    }
    for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) read(chunk)
    read()
  }
  return {
    rows: Math.max(0, lines + (lastLf || !sawText ? 0 : 1) - 1),
    alsoUtf8: chosen.encoding !== 'utf-8' && alsoUtf8 && nonAscii,
  }
}

/**
 * UTF-16 written without a byte-order mark reads as UTF-8 with a NUL byte beside every letter:
 * valid, and meaningless. Such a file is refused with the encoding to give.
 */
function refuseUnmarkedUtf16(head: Buffer, chosen: FileEncoding): void {
  if (chosen.because !== 'default' || isUtf16(chosen.encoding)) return
  const sample = head.subarray(0, 4096)
  let even = 0
  let odd = 0
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] !== 0) continue
    if (i % 2 === 0) even++
    else odd++
  }
  if (even + odd === 0 || even + odd < sample.length / 4) return
  const guess = odd > even ? 'utf-16le' : 'utf-16be'
  throw new CsvFormatError(
    `The file looks like ${guess.toUpperCase()} without a byte-order mark (a NUL byte beside each letter): import it with --encoding ${guess}. Nothing was imported.`,
  )
}

/** The file's text, decoded piece by piece (the byte-order mark dropped). */
export async function* decodeFile(file: string, encoding: string): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding, { fatal: true })
  const decode = (chunk?: Buffer) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode()
    } catch {
      // checkFile passed it: the file was written to since (the checkpoint holds what has landed)
      throw new CsvFormatError(
        `The file changed while it was imported: it now has bytes that ${encoding} cannot have. Fix it and import it again.`,
      )
    }
  }
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    const text = decode(chunk)
    if (text.length > 0) yield text
  }
  const rest = decode()
  if (rest.length > 0) yield rest
}

const BECAUSE: Record<FileEncoding['because'], string> = {
  'byte-order mark': 'it starts with a byte-order mark',
  '--encoding': 'as --encoding says',
  default: 'the default; --encoding names another',
}

/** The file's first bytes: enough to tell a byte-order mark, or UTF-16 without one. */
function firstBytes(file: string): Buffer {
  const fd = fs.openSync(file, 'r')
  try {
    const buf = Buffer.alloc(4096)
    return buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0))
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * The import's first pass: decides the file's encoding (telling `notice` which, and why), refuses
 * a file not valid in it (a CsvFormatError), and counts its rows for the progress bar.
 */
export async function checkEncoding(
  file: string,
  label: string | undefined,
  notice: (message: string) => void,
): Promise<{ encoding: FileEncoding; rows: number }> {
  const name = path.basename(file)
  const head = firstBytes(file)
  const encoding = chooseEncoding(head, label)
  if (label !== undefined && encoding.because === 'byte-order mark')
    notice(`${name} starts with a ${encoding.encoding} byte-order mark, which --encoding ${label} does not override.`)
  refuseUnmarkedUtf16(head, encoding)
  notice(`Reading ${name} as ${encoding.encoding.toUpperCase()} (${BECAUSE[encoding.because]}).`)
  const { rows, alsoUtf8 } = await checkFile(file, encoding)
  if (alsoUtf8)
    notice(
      `Warning: ${name} is valid UTF-8, with letters outside ASCII; read as ${encoding.encoding}, each of them becomes two or three (ä as "Ã¤"). If it is UTF-8, import it without --encoding.`,
    )
  return { encoding, rows }
}
