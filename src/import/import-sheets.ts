import { listParentsAmong, lockAccounts } from '../accounts/accounts.repository.ts'
import { listSlotHoldersOfAccounts } from '../contacts/contacts.repository.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import type { SheetData } from '../contacts/sheet.ts'
import type { Db } from '../db/database.ts'
import type { RequestContext } from '../lib/actor.ts'
import { isAppError } from '../lib/errors.ts'
import { listUsersOfAccounts } from '../users/users.repository.ts'
import type { GroupResult, ReadyRow } from './batch.ts'
import type { SheetsRow } from './csv-rows.ts'
import { fromAppError } from './rejects.ts'

const byAccount = <T extends { account_id: string }>(rows: T[]) => {
  const m = new Map<string, T[]>()
  for (const r of rows) m.set(r.account_id, [...(m.get(r.account_id) ?? []), r])
  return m
}

/**
 * What the changes of many accounts read, done up front in four queries instead of a few per
 * account: the accounts locked (the same lock as a single write's, taken in id order), then their
 * slots and users, which the locks keep as read. An account that is not there is left out.
 */
async function readSheets(trx: Db, accountIds: string[]): Promise<Map<string, SheetData>> {
  const accounts = await lockAccounts(trx, accountIds)
  const holders = byAccount(await listSlotHoldersOfAccounts(trx, accountIds))
  const users = byAccount(await listUsersOfAccounts(trx, accountIds))
  // which have children: only their changes look for the descendants they reach (contacts.service.ts)
  const parents = new Set(await listParentsAmong(trx, accountIds))
  return new Map(
    accounts.map((a) => [
      a.id,
      { account: a, holders: holders.get(a.id) ?? [], users: users.get(a.id) ?? [], hasChildren: parents.has(a.id) },
    ]),
  )
}

/**
 * A batch of sheets-file rows (one account each) in one transaction, through the contact service's
 * whole-sheet replacement: the same checks, lock, versioning, audit event, webhook event and mails
 * as `PUT .../contacts`, with the reads of the whole batch done at once. The import replaces
 * whatever is there (`If-Match: *`, under the account's lock); a sheet that is already what the
 * row says writes nothing. A refused row has written nothing, so the batch goes on after it.
 */
export function createSheetsImporter({
  contacts,
  ctx,
}: {
  contacts: Pick<ContactService, 'replaceSheetIn'>
  ctx: RequestContext
}) {
  return async function applySheets(trx: Db, groups: ReadyRow<SheetsRow>[][]): Promise<GroupResult[]> {
    const rows = groups.map((g) => g[0]!)
    const read = await readSheets(
      trx,
      rows.map((r) => r.value.accountId),
    )
    const out: GroupResult[] = []
    for (const { line, cells, value } of rows) {
      // used once: an account met again (or not found) is read afresh, and sees what was written
      const data = read.get(value.accountId)
      read.delete(value.accountId)
      try {
        const { changed } = await contacts.replaceSheetIn(trx, ctx, value.accountId, value.sheet, data)
        out.push({
          rows: [{ line, cells, result: changed ? 'changed' : 'unchanged' }],
          tally: { sheetsChanged: changed ? 1 : 0 },
        })
      } catch (e) {
        if (!isAppError(e)) throw e
        out.push({ rows: [{ line, cells, result: 'rejected', problem: fromAppError(e) }] })
      }
    }
    return out
  }
}
