import { parentNotFound, treeProblem } from '../accounts/account-tree.ts'
import { detachAccounts, lockAccounts, updateAccount } from '../accounts/accounts.repository.ts'
import { toAccount } from '../accounts/accounts.service.ts'
import type { AccountRow } from '../accounts/accounts.table.ts'
import { appendAuditEvents } from '../audit/audit.repository.ts'
import type { AuditEntry } from '../audit/audit-events.ts'
import type { Db } from '../db/database.ts'
import { underSavepoint } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import { inTransaction } from './batch.ts'
import { fromAppError, type RowProblem } from './rejects.ts'

/*
 * The parents of a users file (issue 16), set after all its accounts have landed: a child may come
 * before its parent, a parent may be an account the file creates further down, and a file may move
 * accounts, so that set one by one in file order a good file could meet a cycle or a tree too deep
 * on the way (B under A moved to A under B is a cycle until B moves first). So, in one transaction:
 *
 * 1. every account whose parent changes is detached (the trigger checks nothing for no parent);
 * 2. they are attached again, in file order. Every link then in place is one the file asks for
 *    (or one it leaves alone), so while the file's tree is good, no step can close a cycle or
 *    make a tree deeper than the file's tree will be, whatever the order;
 * 3. a step the database refuses (its trigger: a cycle, too deep; its foreign key: no such
 *    account) is a rejected row; the round is rolled back to its savepoint, and goes again
 *    without the refused accounts, which keep their parents. The set shrinks each round, so this
 *    ends. Of two rows that make a cycle together, the later one, which closes it, is refused.
 *
 * The tree moves at once: the API never sees it half moved. Only the platform sets parents
 * (accounts.service.ts), and the import is the platform: its actor is `system`.
 */

/** What a users file asks of one account's parent, with the row that said it (the account's first). */
export interface ParentIntent {
  accountId: string
  parentId: string | null
  line: number
  cells: string[]
  /** What became of the row before its parent was set; undefined when an interrupted run did it. */
  result?: 'changed' | 'unchanged'
}

export interface ParentsResult {
  /** The accounts whose parent changed, in file order. */
  moved: ParentIntent[]
  refused: { intent: ParentIntent; problem: RowProblem }[]
}

/** What a rejected parent's row says besides the database's reason. */
const KEPT = 'The rest of the row landed; the account keeps the parent it had (none, if it is new).'

/** The row is in the rejects file, yet its account and users did land: its detail says what did not. */
function refusal(intent: ParentIntent, problem: AppError): ParentsResult['refused'][number] {
  const { code, title, detail } = fromAppError(problem)
  return { intent, problem: { code, title, detail: `${detail} ${KEPT}` } }
}

/**
 * A dry run rolled back the accounts the file creates, so it cannot try their parents; it can
 * still tell a parent that is neither stored nor in the file.
 */
async function unknownParentsOfNew(trx: Db, intents: ParentIntent[], stored: Map<string, AccountRow>) {
  const inFile = new Set(intents.map((i) => i.accountId))
  const asked = intents.filter((i) => !stored.has(i.accountId) && i.parentId !== null && !inFile.has(i.parentId))
  const found = new Set(
    (
      await lockAccounts(
        trx,
        asked.map((i) => i.parentId!),
      )
    ).map((a) => a.id),
  )
  return asked.filter((i) => !found.has(i.parentId!)).map((i) => refusal(i, parentNotFound(i.parentId)))
}

/** A round that met refusals: undone to its savepoint, and tried again without them. */
class Refused extends Error {
  constructor(readonly failed: ParentsResult['refused']) {
    super('parents refused')
  }
}

/** Sets the parents `intents` ask for (see above). Accounts that are not there are left out. */
export async function setParents(
  db: Db,
  ctx: RequestContext,
  intents: ParentIntent[],
  dryRun: boolean,
): Promise<ParentsResult> {
  if (ctx.actor.type === 'user')
    throw new AppError('forbidden', { detail: 'Only the platform sets an account’s parent.' })
  return inTransaction(db, dryRun, async (trx) => {
    const stored = new Map(
      (
        await lockAccounts(
          trx,
          intents.map((i) => i.accountId),
        )
      ).map((a) => [a.id, a]),
    )
    const inFile = new Set(intents.map((i) => i.accountId))
    let changes = intents.filter(
      (i) =>
        stored.has(i.accountId) &&
        stored.get(i.accountId)!.parent_account_id !== i.parentId &&
        // a dry run rolled back the accounts the file creates: a parent among them cannot be checked
        !(dryRun && i.parentId !== null && inFile.has(i.parentId) && !stored.has(i.parentId)),
    )
    const refused = dryRun ? await unknownParentsOfNew(trx, intents, stored) : []
    for (;;) {
      try {
        const after = await underSavepoint(trx, 'import_parents', () => attach(trx, changes))
        await appendAuditEvents(
          trx,
          ctx,
          changes.map((c): AuditEntry => ({
            accountId: c.accountId,
            action: 'account.updated',
            before: toAccount(stored.get(c.accountId)!),
            after: toAccount(after.get(c.accountId)!),
          })),
        )
        const moved = new Set(changes.map((c) => c.accountId))
        return { moved: intents.filter((i) => moved.has(i.accountId)), refused }
      } catch (e) {
        if (!(e instanceof Refused)) throw e
        refused.push(...e.failed)
        const out = new Set(e.failed.map((f) => f.intent.accountId))
        changes = changes.filter((c) => !out.has(c.accountId))
      }
    }
  })
}

/** Steps 1 and 2; each attach under a savepoint of its own, so that one refusal does not hide the next. */
async function attach(trx: Db, changes: ParentIntent[]): Promise<Map<string, AccountRow>> {
  const after = new Map<string, AccountRow>()
  const failed: ParentsResult['refused'] = []
  await detachAccounts(
    trx,
    changes.map((c) => c.accountId),
  )
  for (const c of changes) {
    try {
      const row = await underSavepoint(trx, 'import_parent', () =>
        updateAccount(trx, c.accountId, { parent_account_id: c.parentId }),
      )
      after.set(c.accountId, row!)
    } catch (e) {
      const problem = treeProblem(e, c.parentId)
      if (!problem) throw e
      failed.push(refusal(c, problem))
    }
  }
  if (failed.length > 0) throw new Refused(failed)
  return after
}
