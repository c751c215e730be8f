import { restoreFormula } from '../lib/csv-formula.ts'
import { csvRecords, type SourceRecord } from './csv-records.ts'
import { decodeFile } from './text-encoding.ts'

export type { SourceRecord } from './csv-records.ts'

/**
 * The records of a CSV file in `encoding` (checked beforehand: text-encoding.ts), streamed and in
 * line order: memory stays flat however big the file. Rows of the wrong width and records that
 * cannot be read are passed on (with `error`), not thrown, so that one bad row is rejected
 * instead of stopping the import; a quote left open rejects its own line only (csv-records.ts).
 */
export async function* readRecords(file: string, encoding = 'utf-8'): AsyncGenerator<SourceRecord> {
  for await (const record of csvRecords(decodeFile(file, encoding))) {
    // a cell our CSVs defused (a quote ahead of `=` and the like) is read back as it was
    yield { ...record, cells: record.cells.map(restoreFormula) }
  }
}
