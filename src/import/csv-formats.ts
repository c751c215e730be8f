import type { SlotName } from '../contacts/contact-slots.ts'

/**
 * The two CSV formats of `account-contacts import` and `export` (docs/CSV.md): which one a file
 * is, told by its header alone, and where each column is.
 */

const ACCOUNT_COLUMNS = ['account_id', 'account_name', 'account_locale'] as const
const USER_COLUMNS = ['user_id', 'email', 'name', 'role', 'status', 'locale'] as const

/** One row per user, with the account it belongs to (a row without a user carries an account alone). */
export const USERS_COLUMNS = [...ACCOUNT_COLUMNS, ...USER_COLUMNS] as const

/**
 * The account's parent (issue 16), optional in a users file: without the column every account
 * keeps its parent, as files written before it existed expect; with it, empty means none.
 */
export const PARENT_COLUMN = 'parent_account_id'

/** A users file as `export` writes it: the parent beside the other account columns. */
export const USERS_EXPORT_COLUMNS = [...ACCOUNT_COLUMNS, PARENT_COLUMN, ...USER_COLUMNS] as const

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
 * Each slot's rule towards the parent (contacts/slot-rules.ts), optional in a sheets file but
 * all or none, as `PUT .../contacts` takes `rules` whole or not at all: without them the rules
 * stay; with them an empty cell is `inherit`.
 */
export const RULE_COLUMNS: Record<SlotName, string> = {
  primary: 'primary_rule',
  billing: 'billing_rule',
  decisionMaker: 'decision_maker_rule',
  onboarding: 'onboarding_rule',
  security: 'security_rule',
  technicalAdmin: 'technical_admin_rule',
}
const RULES = Object.values(RULE_COLUMNS)

/** A sheets file as `export` writes it: the holders, then the rules. */
export const SHEETS_EXPORT_COLUMNS = [...SHEETS_COLUMNS, ...RULES] as const

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
  /** Users: the file has the parent column. Sheets: it has the rule columns. */
  parents: boolean
  rules: boolean
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
  const parents = index.has(PARENT_COLUMN)
  if (has(USERS_COLUMNS) && own.length === USERS_COLUMNS.length + (parents ? 1 : 0))
    return { format: 'users', header, index, billing: [], parents, rules: false }
  // extra billing_N columns are read, so that a fourth billing contact gets the API's own answer
  const sheetColumn = (n: string) =>
    (SHEETS_COLUMNS as readonly string[]).includes(n) || BILLING.test(n) || RULES.includes(n)
  if (has(SHEETS_COLUMNS) && own.every(sheetColumn)) {
    const rules = RULES.some((c) => index.has(c))
    const missing = RULES.filter((c) => !index.has(c))
    if (rules && missing.length > 0)
      throw new CsvFormatError(
        `The header has some rule columns but not ${missing.join(', ')}: give all six (an empty cell is inherit) or none (the rules stay as they are).`,
      )
    const billing = own
      .filter((n) => BILLING.test(n))
      .sort((a, b) => Number(BILLING.exec(a)![1]) - Number(BILLING.exec(b)![1]))
      .map((n) => index.get(n)!)
    return { format: 'sheets', header, index, billing, parents: false, rules }
  }
  throw new CsvFormatError(
    `The header is neither a users file (${USERS_COLUMNS.join(',')}, optionally ${PARENT_COLUMN}) nor a sheets file (${SHEETS_COLUMNS.join(',')}, optionally the six *_rule columns); ` +
      `it is: ${header.join(',')}. See docs/CSV.md.`,
  )
}

/** The cell of `column` in a row ('' when the row is short). */
export const cell = (layout: Layout, cells: string[], column: string): string =>
  cells[layout.index.get(column) ?? -1] ?? ''
