import fs from 'node:fs'
import { parse } from 'csv-parse'
import { restoreFormula } from '../lib/csv-formula.ts'

/** One record of a CSV file, with the lines it spans (a quoted cell may hold line breaks). */
export interface SourceRecord {
  /** The line the record starts on (1 = the header). */
  line: number
  /** The line it ends on: what a checkpoint records. */
  endLine: number
  cells: string[]
  /** Set when the record could not be read (a quote never closed): the cells are then empty. */
  error?: string
}

/**
 * The records of a CSV file, streamed: memory stays flat however big the file. Rows of the wrong
 * width and records that cannot be parsed are passed on (with `error`), not thrown, so that one
 * bad row is rejected instead of stopping the import.
 *
 * Records come **in line order**, always: csv-parse reports a record it cannot read (`on_skip`) as
 * soon as it meets it, ahead of the records of the same chunk it still holds, so such a record
 * waits here until the records before it have been passed on. The header, the account groups and
 * the checkpoint (a line before which everything has landed) all rely on that order.
 */
export async function* readRecords(file: string): AsyncGenerator<SourceRecord> {
  const skipped: (SourceRecord & { emptyLines: number })[] = []
  const parser = fs.createReadStream(file).pipe(
    parse({
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      on_skip: (err) => {
        const context = err as { lines?: number; empty_lines?: number } | undefined
        const line = context?.lines ?? 0
        skipped.push({ line, endLine: line, cells: [], error: err?.message ?? 'cannot be read as CSV', emptyLines: context?.empty_lines ?? 0 })
      },
    }),
  )
  // `info.lines` is where a record ends; it starts after the previous one (read or skipped) and any empty lines
  let prevEnd = 0
  let prevEmpty = 0
  const passOn = (s: SourceRecord & { emptyLines: number }): SourceRecord => {
    prevEnd = Math.max(prevEnd, s.endLine)
    prevEmpty = Math.max(prevEmpty, s.emptyLines)
    const { emptyLines: _, ...record } = s
    return record
  }
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; empty_lines: number } }>) {
    // a skipped record on or before the line this one would start on comes first
    while (skipped.length > 0 && skipped[0]!.line <= prevEnd + 1 + (info.empty_lines - prevEmpty)) yield passOn(skipped.shift()!)
    const line = prevEnd + 1 + (info.empty_lines - prevEmpty)
    prevEnd = info.lines
    prevEmpty = info.empty_lines
    // a cell our CSVs defused (a quote ahead of `=` and the like) is read back as it was
    yield { line, endLine: info.lines, cells: record.map(restoreFormula) }
  }
  while (skipped.length > 0) yield passOn(skipped.shift()!)
}

/** The rows of a file, roughly (its line breaks less the header): the total for progress. */
export async function estimateRows(file: string): Promise<number> {
  let lines = 0
  let last = 10
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
    if (chunk.length > 0) last = chunk[chunk.length - 1]!
  }
  return Math.max(0, lines + (last === 10 ? 0 : 1) - 1)
}
