import type { ContactService } from '../contacts/contacts.service.ts'
import type { Db } from '../db/database.ts'
import type { RequestContext } from '../lib/actor.ts'
import type { GroupResult, ReadyRow } from './batch.ts'
import type { SheetsRow } from './csv-rows.ts'
import { fromAppError } from './rejects.ts'

/**
 * A batch of sheets-file rows (one account each) in one transaction, through the contact service's
 * whole-sheet replacement: the same checks, lock, versioning, audit event, webhook event and mails
 * as `PUT .../contacts`, with the reads of the whole batch done at once. The import replaces
 * whatever is there (`If-Match: *`, under the account's lock); a sheet that is already what the
 * row says writes nothing.
 */
export function createSheetsImporter({
  contacts,
  ctx,
}: {
  contacts: Pick<ContactService, 'replaceSheetsIn'>
  ctx: RequestContext
}) {
  return async function applySheets(trx: Db, groups: ReadyRow<SheetsRow>[][]): Promise<GroupResult[]> {
    const rows = groups.map((g) => g[0]!)
    const results = await contacts.replaceSheetsIn(
      trx,
      ctx,
      rows.map((r) => ({ accountId: r.value.accountId, input: r.value.sheet })),
    )
    return rows.map(({ line, cells }, i): GroupResult => {
      const r = results[i]!
      if ('problem' in r) return { rows: [{ line, cells, result: 'rejected', problem: fromAppError(r.problem) }] }
      return {
        rows: [{ line, cells, result: r.changed ? 'changed' : 'unchanged' }],
        tally: { sheetsChanged: r.changed ? 1 : 0 },
      }
    })
  }
}
