/**
 * Cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage return
 * ahead of one), and those that already look like one we defused: a quote ahead of either. The
 * second kind is defused too, so that `restoreFormula` can tell ours apart and every value makes
 * the round trip unchanged.
 */
const RISKY = /^'*[=+\-@\t\r]/

/**
 * A cell as written to a CSV file someone may open in a spreadsheet: a leading `'` on a risky
 * value, as OWASP advises against CSV injection. Used by every CSV we write (export, report,
 * rejects file).
 */
export const defuseFormula = (value: string): string => (RISKY.test(value) ? `'${value}` : value)

/** The inverse of `defuseFormula`, for the import: strips exactly the quote it would have added. */
export const restoreFormula = (value: string): string =>
  value.startsWith("'") && RISKY.test(value) ? value.slice(1) : value
