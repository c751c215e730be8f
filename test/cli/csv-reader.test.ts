import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { parse } from 'csv-parse/sync'

import { CsvFormatError } from '../../src/import/csv-formats.ts'
import { csvRecords, MAX_RECORD_CHARS, type SourceRecord } from '../../src/import/csv-records.ts'
import { checkFile } from '../../src/import/text-encoding.ts'
import { tempDir } from './cli-harness.ts'

// The import's CSV reader (review M6) and its encoding check (M7), on their own: the same records
// however the text is cut into pieces, csv-parse's reading of every well-formed file, and the
// line of the first byte that is not UTF-8 wherever the stream's chunks fall.

async function* pieces(text: string, size: number) {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size)
}

async function records(text: string, size = 1 << 16): Promise<SourceRecord[]> {
  const out: SourceRecord[] = []
  for await (const r of csvRecords(pieces(text, size))) out.push(r)
  return out
}

const TEXTS = [
  'a,b,c\n1,2,3\n',
  'a,b,c\r\n1,"x,y",3\r\n\r\n\r\n4,"q""q",\r\n5,,"",\n',
  'a,b,c\n1,"two\nlines",3\n4,5,6', // a quoted line break, and no line break at the end
  'a,b,c\n1,O"Brien,3\n4,5,6\n',
  'a,b,c\n1,"Oy Ab,3\n4,"5",6\n7,8,9\n',
  'a,b,c\n1,"x"y,3\n\n4,5,6\n',
  'a,b,c\n1,2,"never closed\n3,4,5\n',
  'a,b,c\n1,2,\r3,4,5\n', // a lone carriage return is text, not a line break
]

test('the records do not depend on where the text is cut', async () => {
  for (const text of TEXTS) {
    const whole = await records(text)
    for (const size of [1, 2, 3, 5, 7])
      assert.deepEqual(await records(text, size), whole, `${JSON.stringify(text)} in pieces of ${size}`)
  }
})

test('a well-formed file reads as csv-parse reads it, each record with its lines', async () => {
  const text = 'h1,h2,h3\r\n"a ""b""",c,\r\n\r\nd,"e\r\nf",g\r\n,,\r\n"",x,"y,z"\r\n'
  const ours = await records(text, 3)
  assert.deepEqual(
    ours.map((r) => r.cells),
    parse(text, { relax_column_count: true, skip_empty_lines: true }),
  )
  assert.deepEqual(
    ours.map((r) => [r.line, r.endLine]),
    [
      [1, 1],
      [2, 2],
      [4, 5],
      [6, 6],
      [7, 7],
    ],
  )
  assert.equal(
    ours.some((r) => r.error),
    false,
  )
})

test('a quote left open is rejected on its own line, and the next lines are read again', async () => {
  const [, bad, ...rest] = await records('a,b,c\n1,"Oy Ab,3\n4,5,6\n7,8,9\n', 4)
  assert.deepEqual([bad!.line, bad!.endLine, bad!.cells], [2, 2, ['1', '"Oy Ab', '3']])
  assert.match(bad!.error!, /a quote opened on this line is not closed on it \(the file ends first\)/)
  assert.deepEqual(
    rest.map((r) => [r.line, r.cells]),
    [
      [3, ['4', '5', '6']],
      [4, ['7', '8', '9']],
    ],
  )
  // a row over several lines is taken only when it is as wide as the header
  const [, wide, narrow] = await records('a,b,c\n1,"x\ny",3\n1,"x\ny"\n', 2)
  assert.deepEqual([wide!.line, wide!.endLine, wide!.error], [2, 3, undefined])
  assert.deepEqual([narrow!.line, narrow!.endLine], [4, 4])
  assert.match(narrow!.error!, /it would make one row of lines 4 to 5/)
})

test('a line over the limit is skipped unread, in pieces, and the next line is read', async () => {
  const long = 'x'.repeat(MAX_RECORD_CHARS * 3)
  const got = await records(`a,b\n1,${long}\n2,"${long}"\n3,4\n`, 1 << 16)
  assert.deepEqual(
    got.map((r) => [r.line, r.cells.length, r.error !== undefined]),
    [
      [1, 2, false],
      [2, 0, true],
      [3, 0, true],
      [4, 2, false],
    ],
  )
})

test('bytes that are not UTF-8 are found at their line, wherever the chunks of the stream fall', async (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'f.csv')
  // 'ä' (2 bytes) and '😀' (4 bytes) across the first chunk boundaries (64 KiB), then a latin-1 byte
  const line = (n: number) => `${String(n).padStart(6, '0')},${'x'.repeat(40)}\n` // 48 bytes
  let text = 'a,b\n'
  let n = 2
  while (Buffer.byteLength(text) < 65_536 - 60) text += line(n++)
  text += 'ä'.repeat(40) + '😀'.repeat(10) + '\n' // straddles the boundary at 65,536
  n++
  while (Buffer.byteLength(text) < 200_000) text += line(n++)
  fs.writeFileSync(file, text)
  assert.deepEqual(await checkFile(file, { encoding: 'utf-8', because: 'default' }), { rows: n - 2, alsoUtf8: false })

  fs.writeFileSync(file, Buffer.concat([Buffer.from(text), Buffer.from('Mäkelä,1\n', 'latin1')]))
  await assert.rejects(checkFile(file, { encoding: 'utf-8', because: 'default' }), (e: Error) => {
    assert.ok(e instanceof CsvFormatError)
    assert.match(
      e.message,
      new RegExp(
        `^The file is not UTF-8: line ${n.toLocaleString('en-US')} has the byte E4, .* that line says "Mäkelä,1"`,
      ),
    )
    return true
  })
  // a character cut off by the end of the file
  fs.writeFileSync(file, Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from('ä').subarray(0, 1)]))
  await assert.rejects(checkFile(file, { encoding: 'utf-8', because: 'default' }), /line 2 has the byte C3/)
  // UTF-16 with a lone surrogate
  fs.writeFileSync(
    file,
    Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('a,b\n1,', 'utf16le'),
      Buffer.from([0x00, 0xd8]),
      Buffer.from(',2\n', 'utf16le'),
    ]),
  )
  await assert.rejects(
    checkFile(file, { encoding: 'utf-16le', because: 'byte-order mark' }),
    /The file is not valid utf-16le \(as its byte-order mark says\)/,
  )
})
