import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

import { stringify } from 'csv-stringify'

import { listAccounts } from '../accounts/accounts.repository.ts'
import type { AccountRow } from '../accounts/accounts.table.ts'
import type { Progress } from '../cli/progress.ts'
import type { SlotName } from '../contacts/contact-slots.ts'
import { listSlotHoldersOfAccounts } from '../contacts/contacts.repository.ts'
import type { Db } from '../db/database.ts'
import { isRetryable } from '../db/transaction.ts'
import { defuseFormula } from '../lib/csv-formula.ts'
import { listUsersOfAccounts } from '../users/users.repository.ts'
import { type CsvFormat, RULE_COLUMNS, SHEETS_EXPORT_COLUMNS, USERS_EXPORT_COLUMNS } from './csv-formats.ts'
import { countAccounts, countUserRows } from './export.repository.ts'

/** Accounts read at a time: one query for them, one for their users or slots. */
const PAGE = 1000

async function* pages(db: Db): AsyncGenerator<AccountRow[]> {
  let cursor: string | undefined
  for (;;) {
    const page = await listAccounts(db, { limit: PAGE, cursor })
    if (page.length === 0) return
    yield page
    cursor = page[page.length - 1]!.id
  }
}

/** A users file: each account (with its parent) and its users in id order; an account without users gets a row of its own. */
async function* userRecords(db: Db): AsyncGenerator<string[]> {
  for await (const accounts of pages(db)) {
    const users = await listUsersOfAccounts(
      db,
      accounts.map((a) => a.id),
    )
    let i = 0
    for (const a of accounts) {
      const account = [a.id, a.name, a.locale, a.parent_account_id ?? '']
      if (users[i]?.account_id !== a.id) yield [...account, '', '', '', '', '', '']
      for (; users[i]?.account_id === a.id; i++) {
        const u = users[i]!
        yield [...account, u.id, u.email, u.name, u.role, u.status, u.locale ?? '']
      }
    }
  }
}

/** A sheets file: a row for every account, its holders as user ids, or the outside security address, then its rules. */
async function* sheetRecords(db: Db): AsyncGenerator<string[]> {
  const column: Record<string, string> = {
    primary: 'primary',
    decisionMaker: 'decision_maker',
    onboarding: 'onboarding',
    security: 'security',
    technicalAdmin: 'technical_admin',
  }
  for await (const accounts of pages(db)) {
    const slots = await listSlotHoldersOfAccounts(
      db,
      accounts.map((a) => a.id),
    )
    let i = 0
    for (const a of accounts) {
      // stored rules are the non-inherit ones, so a slot that inherits is an empty cell
      const row = new Map<string, string>([
        ['account_id', a.id],
        ...Object.entries(a.slot_rules).map(([slot, rule]): [string, string] => [RULE_COLUMNS[slot as SlotName], rule]),
      ])
      for (; slots[i]?.account_id === a.id; i++) {
        const s = slots[i]!
        row.set(s.slot === 'billing' ? `billing_${s.position + 1}` : column[s.slot]!, s.user_id ?? s.email ?? '')
      }
      yield SHEETS_EXPORT_COLUMNS.map((c) => row.get(c) ?? '')
    }
  }
}

/**
 * Writes every account's users or sheet as CSV (docs/CSV.md) to `out`, streamed page by page,
 * from one snapshot (a repeatable-read transaction), so that the file is consistent even while
 * the service keeps changing things. Answers the rows written.
 */
export async function exportCsv(
  db: Db,
  opts: { format: CsvFormat; out: NodeJS.WritableStream; end?: boolean; progress?: Progress },
): Promise<{ rows: number }> {
  // Not through db/transaction.ts's retrying helper: the rows already went to `out`, which a
  // second attempt could not take back (a read-only snapshot does not meet serialization failures).
  // Until the first row is read it can, and must: a pooler that turns out not to carry named
  // statements fails the transaction it is found in (db/prepared-statements.ts), and by the first
  // row every statement of the export has run once. The pool sends none named from then on.
  for (;;) {
    try {
      return await exportOnce(db, opts)
    } catch (e) {
      if (!(e instanceof BeforeFirstRow) || !isRetryable(e.cause)) throw e instanceof BeforeFirstRow ? e.cause : e
    }
  }
}

class BeforeFirstRow extends Error {}

async function exportOnce(
  db: Db,
  opts: { format: CsvFormat; out: NodeJS.WritableStream; end?: boolean; progress?: Progress },
): Promise<{ rows: number }> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const source = opts.format === 'users' ? userRecords(trx) : sheetRecords(trx)
      let total: number
      let first: IteratorResult<string[]>
      try {
        total = opts.format === 'users' ? await countUserRows(trx) : await countAccounts(trx)
        first = await source.next()
      } catch (e) {
        throw new BeforeFirstRow('the export failed before its first row', { cause: e })
      }
      let rows = 0
      const counted = async function* () {
        if (!first.done) {
          rows++
          yield first.value
          for await (const r of source) {
            yield r
            if (++rows % 1000 === 0) opts.progress?.update(rows, total)
          }
        }
        opts.progress?.update(rows, total)
      }
      const columns = opts.format === 'users' ? USERS_EXPORT_COLUMNS : SHEETS_EXPORT_COLUMNS
      await pipeline(
        Readable.from(counted()),
        stringify({ header: true, columns: [...columns], cast: { string: defuseFormula } }),
        opts.out,
        { end: opts.end ?? true },
      )
      return { rows }
    })
}
