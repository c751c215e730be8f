import { stringify } from 'csv-stringify/sync'

import type { NamedAccountHealth } from '../account-health/account-health-report.ts'
import { defuseFormula } from '../lib/csv-formula.ts'

export const REPORT_FORMATS = ['table', 'csv', 'json'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

export interface ReportWriter {
  /** One account with at least one problem. */
  add(account: NamedAccountHealth): void
  /** After the last account; `checked` is how many accounts were looked at. */
  end(checked: number): void
}

/**
 * One CSV line. Cells a spreadsheet would run are defused, as in every CSV we write; a cell with
 * spaces at either end is quoted too, as a reader that trims unquoted cells would lose them.
 */
const csvLine = (cells: string[]) => stringify([cells], { cast: { string: defuseFormula }, quoted_match: /^\s|\s$/ })

/**
 * The report on stdout. CSV (one row per problem) and JSON (an array of accounts) are written as
 * the accounts come, for large installations, and keep stdout free of anything else: the count
 * goes to stderr. The table waits for the end to size its columns, and is for people.
 */
export function createReportWriter(
  format: ReportFormat,
  out: (text: string) => void,
  note: (text: string) => void,
): ReportWriter {
  let found = 0
  const summary = (checked: number) => `${found} of ${checked} account(s) have contact problems.\n`
  switch (format) {
    case 'csv':
      out(csvLine(['account_id', 'account_name', 'problem', 'message']))
      return {
        add(a) {
          found++
          for (const p of a.problems) out(csvLine([a.accountId, a.name, p.code, p.message]))
        },
        end: (checked) => note(summary(checked)),
      }
    case 'json':
      return {
        add(a) {
          out(
            `${found++ === 0 ? '[\n' : ',\n'}  ${JSON.stringify({ accountId: a.accountId, name: a.name, problems: a.problems })}`,
          )
        },
        end(checked) {
          out(found === 0 ? '[]\n' : '\n]\n')
          note(summary(checked))
        },
      }
    case 'table': {
      const rows: string[][] = []
      return {
        add(a) {
          found++
          for (const p of a.problems) rows.push([a.accountId, a.name, p.code, p.message])
        },
        end(checked) {
          if (rows.length > 0) {
            const all = [['ACCOUNT', 'NAME', 'PROBLEM', 'DETAIL'], ...rows]
            const widths = [0, 1, 2].map((i) => Math.max(...all.map((r) => r[i]!.length)))
            for (const r of all) out(r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ') + '\n')
            out('\n')
          }
          out(summary(checked))
        },
      }
    }
  }
}
