/**
 * The longest record (row) the importer reads, in characters, its line break included. No row of
 * our formats comes near it (a users row is at most about 1,000 characters); past it a record is
 * rejected with its line, without being held in memory or copied into the rejects file.
 */
export const MAX_RECORD_CHARS = 256 * 1024

/** The longest field (cell), in characters; a row with a longer one is rejected, its cells not copied. */
const MAX_FIELD_CHARS = 64 * 1024

/** One record of a CSV file, with the lines it spans (a quoted cell may hold line breaks). */
export interface SourceRecord {
  /** The line the record starts on (1 = the header). */
  line: number
  /** The line it ends on: what a checkpoint records. */
  endLine: number
  /** The cells as read; for a record that cannot be read, as far as they could be (or none). */
  cells: string[]
  /** Set when the record cannot be read as CSV: why, for the rejects file. */
  error?: string
}

const QUOTE = 34
const COMMA = 44
const LF = 10
const CR = 13

/** What `scan` found at `start`: a whole record, or the need for more text. */
type Scan =
  | { more: true; firstBreak: number }
  | {
      more?: false
      /** Where the next record starts (after the line break that ends this one). */
      end: number
      cells: string[]
      /** Line breaks inside quoted fields. */
      inner: number
      /** The first of them (-1: none), where a runaway quote is resumed after. */
      firstBreak: number
      /** A quote that opens a field and is never closed (the record runs to the end of the text). */
      unclosed?: true
      error?: string
    }

const fmt = (n: number) => n.toLocaleString('en-US')

/** The length of the line break at `i` (0: none, -1: cannot tell before more text arrives). */
function breakAt(text: string, i: number, eof: boolean): number {
  const c = text.charCodeAt(i)
  if (c === LF) return 1
  if (c !== CR) return 0
  if (i + 1 >= text.length) return eof ? 0 : -1
  return text.charCodeAt(i + 1) === LF ? 2 : 0
}

/**
 * Reads the record that starts at `start` (RFC 4180: `,` between fields, `"` around a field that
 * holds one, `""` for a quote in it). A quote inside an unquoted field, or text after a closing
 * quote, makes the record unreadable; the rest of its line is then read with quotes taken as
 * plain characters, so the record ends on that line and its cells show what was there.
 * `literalQuotes` reads a quote that is not closed in `text` as a plain character too.
 */
function scan(text: string, start: number, eof: boolean, literalQuotes = false): Scan {
  const cells: string[] = []
  let error: string | undefined
  let inner = 0
  let firstBreak = -1
  let i = start
  let nextLf = -2 // the first line feed at or after where it was last looked for (-1: none)
  const fail = (message: string) => {
    error ??= message
  }
  /** Counts the line breaks in text[from, to), looking each one up once. */
  const countBreaks = (from: number, to: number) => {
    for (;;) {
      if (nextLf !== -1 && nextLf < from) nextLf = text.indexOf('\n', from)
      if (nextLf === -1 || nextLf >= to) return
      inner++
      if (firstBreak === -1) firstBreak = nextLf
      from = nextLf + 1
    }
  }
  /** An unquoted field from i to the next comma or line break (undefined: the text ends first). */
  const readUnquoted = (): string | undefined => {
    const from = i
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === COMMA || c === LF) break
      if (c === CR) {
        const brk = breakAt(text, i, eof)
        if (brk === -1) return undefined
        if (brk === 2) break
      } else if (c === QUOTE) fail(`a quote in field ${cells.length + 1}, which does not start with one`)
    }
    if (i >= text.length && !eof) return undefined
    return text.slice(from, i)
  }
  for (;;) {
    const fieldStart = i
    let value: string | undefined
    if (text.charCodeAt(i) === QUOTE && error === undefined) {
      let parts = ''
      let seg = i + 1
      let closed = -1
      for (;;) {
        const q = text.indexOf('"', seg)
        countBreaks(seg, q === -1 ? text.length : q)
        if (q === -1) break
        if (q + 1 >= text.length && !eof) return { more: true, firstBreak }
        if (text.charCodeAt(q + 1) === QUOTE) {
          parts += text.slice(seg, q + 1)
          seg = q + 2
          continue
        }
        closed = q
        parts += text.slice(seg, q)
        break
      }
      if (closed === -1) {
        if (!eof) return { more: true, firstBreak }
        if (!literalQuotes)
          return {
            end: text.length,
            cells,
            inner,
            firstBreak,
            unclosed: true,
            error: `the quote that opens field ${cells.length + 1} is never closed`,
          }
        value = readUnquoted()
      } else {
        i = closed + 1
        const brk = i < text.length ? breakAt(text, i, eof) : 0
        if (brk === -1) return { more: true, firstBreak }
        if (i < text.length && brk === 0 && text.charCodeAt(i) !== COMMA) {
          fail(`field ${cells.length + 1} goes on after its closing quote`)
          i = fieldStart
          value = readUnquoted()
        } else value = parts
      }
    } else value = readUnquoted()
    if (value === undefined) return { more: true, firstBreak }
    if (value.length > MAX_FIELD_CHARS)
      fail(`field ${cells.length + 1} is longer than ${fmt(MAX_FIELD_CHARS)} characters, the most a cell may have`)
    cells.push(value)
    // after a field: a comma, a line break or the end of the text
    if (i >= text.length) return { end: i, cells, inner, firstBreak, ...(error ? { error } : {}) }
    if (text.charCodeAt(i) === COMMA) {
      i++
      if (i >= text.length && !eof) return { more: true, firstBreak }
      continue
    }
    const brk = breakAt(text, i, eof)
    if (brk === -1) return { more: true, firstBreak }
    return { end: i + brk, cells, inner, firstBreak, ...(error ? { error } : {}) }
  }
}

/**
 * A copy of a cell that does not share the text it was cut from. V8 keeps a slice of a string as
 * a view of the whole, and the importer keeps every account id to the end of the file (to catch
 * one listed twice): views would keep every piece of the file's text alive with them (measured:
 * 206 MB of heap instead of 160 for 1,200,000 ids of 24 characters). Slicing a concatenation makes
 * V8 copy it first; it copies a slice shorter than 13 characters anyway.
 */
const own = (cell: string) => (cell.length < 13 ? cell : ` ${cell}`.slice(1))

/** The cells of a line read with every quote that is not closed on it taken as a plain character. */
function literalCells(line: string): string[] {
  const r = scan(line, 0, true, true)
  return r.more || r.cells.some((c) => c.length > MAX_FIELD_CHARS) ? [] : r.cells.map(own)
}

/** The cells of a record to pass on: none when one is over the limit (they are not copied anywhere). */
function cellsOf(r: Extract<Scan, { end: number }>, raw: string): string[] {
  if (r.cells.some((c) => c.length > MAX_FIELD_CHARS)) return []
  // a quote never closed on the last line of the file: its cells as on any line with a stray quote
  return (r.unclosed ? literalCells(raw) : r.cells).map(own)
}

/**
 * The records of a CSV text arriving in pieces, in line order, with flat memory: the text held at
 * once is the current record (at most MAX_RECORD_CHARS) and one piece.
 *
 * A quote opened and not closed on its line would make the rest of the file one record. So a
 * record that spans lines is taken only when it is readable and as wide as the header (the first
 * record); otherwise it is a **runaway quote**: the line it starts on is rejected alone (its
 * cells read with that quote taken as a plain character), and reading starts again on the next
 * line, so the lines it would have swallowed are rows of their own. A record longer than
 * MAX_RECORD_CHARS is rejected too: one that spans lines as a runaway, one longer on its own line
 * by skipping that line, unread.
 */
export async function* csvRecords(pieces: AsyncIterable<string>): AsyncGenerator<SourceRecord> {
  let text = ''
  let pos = 0
  let line = 1
  let width: number | undefined
  /** A line too long to hold, being skipped: where it started. */
  let skipping: number | undefined
  let eof = false
  const iterator = pieces[Symbol.asyncIterator]()
  for (;;) {
    const next = eof ? undefined : await iterator.next()
    if (next && !next.done) text = text.slice(pos) + next.value
    else {
      text = text.slice(pos)
      eof = true
    }
    pos = 0
    for (;;) {
      if (skipping !== undefined) {
        const b = text.indexOf('\n', pos)
        if (b === -1 && !eof) {
          pos = text.length // dropped unread
          break
        }
        pos = b === -1 ? text.length : b + 1
        yield {
          line: skipping,
          endLine: skipping,
          cells: [],
          error: `the line is longer than ${fmt(MAX_RECORD_CHARS)} characters, the most a row may have`,
        }
        line = skipping + 1
        skipping = undefined
        continue
      }
      // empty lines are skipped
      while (pos < text.length) {
        const brk = breakAt(text, pos, eof)
        if (brk <= 0) break
        pos += brk
        line++
      }
      if (pos >= text.length || breakAt(text, pos, eof) === -1) {
        if (eof) return
        break
      }
      const r = scan(text, pos, eof)
      const tooLong = (r.more ? text.length : r.end) - pos > MAX_RECORD_CHARS
      if (r.more && !tooLong) break
      if (tooLong && (r.firstBreak === -1 || r.firstBreak - pos >= MAX_RECORD_CHARS)) {
        // its first line alone is over the limit: skipped to its end, without being held
        skipping = line
        if (r.more) pos = text.length
        continue
      }
      if (
        !r.more &&
        !tooLong &&
        (r.inner === 0 || (r.error === undefined && (width === undefined || r.cells.length === width)))
      ) {
        width ??= r.cells.length
        yield {
          line,
          endLine: line + r.inner,
          cells: cellsOf(r, text.slice(pos, r.end)),
          ...(r.error ? { error: r.error } : {}),
        }
        line += r.inner + 1
        pos = r.end
        continue
      }
      // a runaway quote: the first line alone is rejected, and the next one is read afresh
      const firstLine = text.slice(pos, r.firstBreak + 1)
      const why = tooLong
        ? `it would run on for more than ${fmt(MAX_RECORD_CHARS)} characters`
        : !r.more && r.unclosed
          ? 'the file ends first'
          : `it would make one row of lines ${fmt(line)} to ${fmt(line + (r.more ? 0 : r.inner))}`
      yield {
        line,
        endLine: line,
        cells: literalCells(firstLine),
        error: `a quote opened on this line is not closed on it (${why}); this line is rejected alone and the lines after it are read as rows of their own`,
      }
      line++
      pos = r.firstBreak + 1
    }
  }
}
