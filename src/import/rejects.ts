import fs from 'node:fs'

import { stringify } from 'csv-stringify/sync'

import { defuseFormula } from '../lib/csv-formula.ts'
import { type AppError, type ErrorCode, ERRORS, type FieldError } from '../lib/errors.ts'
import { REJECT_COLUMNS } from './csv-formats.ts'

/** Why a row did not land: the API's problem (code, title, detail) for the same input. */
export interface RowProblem {
  code: string
  title: string
  detail: string
}

export const problemOf = (code: ErrorCode, detail: string): RowProblem => ({ code, title: ERRORS[code].title, detail })

export const fromAppError = (e: AppError): RowProblem => problemOf(e.code, e.detail)

/** A validation problem worded as the API's: each field's path and message, joined. */
export const validationProblem = (errors: FieldError[]): RowProblem =>
  problemOf('validation-failed', errors.map((e) => `${e.path} ${e.message}`).join('; '))

/**
 * The one code the import adds to the API's: a good row that did not land because another row of
 * its account was refused (an account lands whole or not at all).
 */
export const heldBack = (badLine: number): RowProblem => ({
  code: 'account-rejected',
  title: "Another row of this account was rejected; an account's rows land together",
  detail: `Not imported because line ${badLine} of the same account was rejected.`,
})

export interface RejectedRow {
  line: number
  cells: string[]
  problem: RowProblem
}

/**
 * The rejects file: `line,code,title,detail` and then the row as it was read, under the file's own
 * header. Appended to batch by batch, in line order, after each batch commits; `bytes()` is kept
 * in the checkpoint, so that a resumed import cuts off what an interrupted one wrote past it.
 */
export function openRejects(path: string, header: string[], opts: { resumeAtBytes?: number } = {}) {
  let fd: number | undefined
  let count = 0
  let size = 0
  if (opts.resumeAtBytes !== undefined && fs.existsSync(path)) {
    fs.truncateSync(path, opts.resumeAtBytes)
    size = opts.resumeAtBytes
  } else {
    fs.rmSync(path, { force: true }) // a previous run's list would mislead
  }
  return {
    path,
    write(rows: RejectedRow[]) {
      if (rows.length === 0) return
      if (fd === undefined) fd = fs.openSync(path, 'a')
      const records = rows.map((r) => [String(r.line), r.problem.code, r.problem.title, r.problem.detail, ...r.cells])
      if (size === 0) records.unshift([...REJECT_COLUMNS, ...header])
      // the cells as read (restored), defused again: the file is fixed in a spreadsheet and imported
      const text = stringify(records, { cast: { string: defuseFormula } })
      fs.writeSync(fd, text)
      size += Buffer.byteLength(text)
      count += rows.length
    },
    /** Rows written by this run. */
    count: () => count,
    bytes: () => size,
    close() {
      if (fd !== undefined) fs.closeSync(fd)
      fd = undefined
    },
  }
}
