import type { FieldError } from '../lib/errors.ts'
import { type GroupResult, type ReadyRow, rejectGroup } from './batch.ts'
import type { Layout } from './csv-formats.ts'
import { accountIdOf, type Parsed } from './csv-rows.ts'
import type { SourceRecord } from './csv-source.ts'
import { heldBack, problemOf, type RowProblem, validationProblem } from './rejects.ts'

/** The rows of one account: what lands together or not at all. */
export interface Group<P> {
  accountId: string
  /** The last line of its last row: a checkpoint is always at the end of a group. */
  endLine: number
  size: number
  /** The rows, ready for the database... */
  ready?: ReadyRow<P>[]
  /** ...or the answer already, when a row was refused without needing the database. */
  refused?: GroupResult
  /** The line of a record that cannot be read as CSV (such a record is a group of its own). */
  unreadable?: number
}

export interface RowRules<P> {
  /** A users file groups consecutive rows of an account; in a sheets file each row is an account. */
  rowsPerAccount: 'many' | 'one'
  parse(layout: Layout, cells: string[]): Parsed<P>
  /** Checks across the rows of a group (problems by line). */
  check?(rows: ReadyRow<P>[]): Map<number, RowProblem>
}

/**
 * Turns records into account groups, checking each row against the schemas on the way. `seen`
 * (account id → first line) outlives the call's skipping of committed lines, so that an account
 * appearing twice is caught on a resumed import too: its rows must be together (users file), or
 * it must be listed once (sheets file), else a rerun would not be idempotent.
 */
export async function* groupRecords<P>(
  records: AsyncIterable<SourceRecord>,
  layout: Layout,
  rules: RowRules<P>,
  seen: Map<string, number>,
): AsyncGenerator<Group<P>> {
  let current: SourceRecord[] = []
  let currentId = ''
  const finish = (): Group<P> => {
    const group = decide(current, currentId, layout, rules, seen)
    if (currentId !== '' && !seen.has(currentId)) seen.set(currentId, current[0]!.line)
    current = []
    return group
  }
  for await (const record of records) {
    const id = record.error ? '' : accountIdOf(layout, record.cells)
    const joins =
      rules.rowsPerAccount === 'many' && current.length > 0 && !record.error && id === currentId && !current[0]!.error
    if (current.length > 0 && !joins) yield finish()
    current.push(record)
    currentId = id
  }
  if (current.length > 0) yield finish()
}

function decide<P>(
  records: SourceRecord[],
  accountId: string,
  layout: Layout,
  rules: RowRules<P>,
  seen: Map<string, number>,
): Group<P> {
  const endLine = records[records.length - 1]!.endLine
  const base = {
    accountId,
    endLine,
    size: records.length,
    ...(records[0]!.error ? { unreadable: records[0]!.line } : {}),
  }
  const problems = new Map<number, RowProblem>()
  const ready: ReadyRow<P>[] = []
  const firstSeen = accountId === '' ? undefined : seen.get(accountId)
  for (const r of records) {
    if (r.error) problems.set(r.line, problemOf('validation-failed', `The row cannot be read as CSV: ${r.error}`))
    else if (firstSeen !== undefined) {
      const detail =
        rules.rowsPerAccount === 'one'
          ? `Account "${accountId}" is on line ${firstSeen} already; a sheets file lists an account once.`
          : `The rows of account "${accountId}" must be together; it is on line ${firstSeen} already.`
      problems.set(r.line, problemOf('conflict', detail))
    } else if (r.cells.length !== layout.header.length) {
      problems.set(
        r.line,
        problemOf(
          'validation-failed',
          `The row has ${r.cells.length} fields where the header has ${layout.header.length}.`,
        ),
      )
    } else {
      const parsed = rules.parse(layout, r.cells)
      if (parsed.errors) problems.set(r.line, validationProblem(parsed.errors as FieldError[]))
      else ready.push({ line: r.line, cells: r.cells, value: parsed.value })
    }
  }
  if (problems.size === 0 && rules.check) for (const [line, p] of rules.check(ready)) problems.set(line, p)
  if (problems.size > 0) return { ...base, refused: rejectGroup(records, problems, heldBack) }
  return { ...base, ready }
}
