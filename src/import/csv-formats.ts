/**
 * The two CSV formats of `account-contacts import` and `export` (docs/CSV.md): which one a file
 * is, told by its header alone, and where each column is.
 */

/** One row per user, with the account it belongs to (a row without a user carries an account alone). */
export const USERS_COLUMNS = [
  'account_id',
  'account_name',
  'account_locale',
  'user_id',
  'email',
  'name',
  'role',
  'status',
  'locale',
] as const

/** One row per account: who holds each slot (user ids; `security` may be an address; empty = nobody). */
export const SHEETS_COLUMNS = [
  'account_id',
  'primary',
  'billing_1',
  'billing_2',
  'billing_3',
  'decision_maker',
  'onboarding',
  'security',
  'technical_admin',
] as const

/**
 * The columns a rejects file puts before a row's own. The importer skips them, so that a rejects
 * file, once its rows are fixed, can be imported as it is.
 */
export const REJECT_COLUMNS = ['line', 'code', 'title', 'detail'] as const

export type CsvFormat = 'users' | 'sheets'

export interface Layout {
  format: CsvFormat
  /** The header as read. */
  header: string[]
  /** Column name → index in a row. */
  index: Map<string, number>
  /** Sheets: the indices of billing_1, billing_2, ... in order (more than three are allowed, and refused per row). */
  billing: number[]
}

/** A header that is neither format: the message names both, for the person at the terminal. */
export class CsvFormatError extends Error {
  override name = 'CsvFormatError'
}

const BILLING = /^billing_([1-9][0-9]?)$/

/** The format and layout a header announces, or a CsvFormatError saying what is wrong with it. */
export function detectFormat(header: string[]): Layout {
  const names = header.map((h) => h.trim().toLowerCase())
  const index = new Map<string, number>()
  for (const [i, n] of names.entries()) {
    if (index.has(n)) throw new CsvFormatError(`The header names the column "${n}" twice.`)
    index.set(n, i)
  }
  const own = names.filter((n) => !(REJECT_COLUMNS as readonly string[]).includes(n))
  const has = (cols: readonly string[]) => cols.every((c) => index.has(c))
  if (has(USERS_COLUMNS) && own.length === USERS_COLUMNS.length) return { format: 'users', header, index, billing: [] }
  // extra billing_N columns are read, so that a fourth billing contact gets the API's own answer
  if (has(SHEETS_COLUMNS) && own.every((n) => (SHEETS_COLUMNS as readonly string[]).includes(n) || BILLING.test(n))) {
    const billing = own
      .filter((n) => BILLING.test(n))
      .sort((a, b) => Number(BILLING.exec(a)![1]) - Number(BILLING.exec(b)![1]))
      .map((n) => index.get(n)!)
    return { format: 'sheets', header, index, billing }
  }
  throw new CsvFormatError(
    `The header is neither a users file (${USERS_COLUMNS.join(',')}) nor a sheets file (${SHEETS_COLUMNS.join(',')}); ` +
      `it is: ${header.join(',')}. See docs/CSV.md.`,
  )
}

/** The cell of `column` in a row ('' when the row is short). */
export const cell = (layout: Layout, cells: string[], column: string): string =>
  cells[layout.index.get(column) ?? -1] ?? ''
