import { insertAccounts, lockAccounts, updateAccount } from '../accounts/accounts.repository.ts'
import { toAccount } from '../accounts/accounts.service.ts'
import type { AccountRow } from '../accounts/accounts.table.ts'
import { appendAuditEvent, appendAuditEvents } from '../audit/audit.repository.ts'
import type { AuditEntry } from '../audit/audit-events.ts'
import type { Db } from '../db/database.ts'
import type { RequestContext } from '../lib/actor.ts'
import { emailTaken } from '../users/user-errors.ts'
import { insertUsers, listUsersOfAccounts } from '../users/users.repository.ts'
import { toUser, type UserService } from '../users/users.service.ts'
import type { NewUserRow, UserRow } from '../users/users.table.ts'
import { type GroupResult, type ReadyRow, rejectGroup } from './batch.ts'
import type { UsersRow } from './csv-rows.ts'
import { fromAppError, heldBack, problemOf, type RowProblem } from './rejects.ts'

/*
 * A batch of accounts from a users file, in one transaction. The common cases go in bulk: new
 * accounts and new users are multi-row inserts, each with its audit event (also in bulk), and rows
 * that match what is stored write nothing. A change to an existing user goes through the user
 * service's own upsert (`putIn`), so that a deactivation vacates the user's slots, mails the super
 * admins and is audited exactly as `PUT .../users/{id}` would do it.
 */

/**
 * Checks a group that needs nothing from the database: one name and locale per account, each
 * user once. Answers the problems by line (empty when the group is fine).
 */
export function checkUsersGroup(rows: ReadyRow<UsersRow>[]): Map<number, RowProblem> {
  const problems = new Map<number, RowProblem>()
  const first = rows[0]!
  const seen = new Map<string, number>()
  for (const r of rows) {
    const v = r.value
    if (
      v.accountName !== first.value.accountName ||
      (v.accountLocale ?? '') !== (first.value.accountLocale ?? '') ||
      (v.parentAccountId ?? '') !== (first.value.parentAccountId ?? '')
    ) {
      const columns =
        v.parentAccountId === undefined
          ? '/account_name and /account_locale'
          : '/account_name, /account_locale and /parent_account_id'
      problems.set(
        r.line,
        problemOf(
          'validation-failed',
          `${columns} must be the same on every row of account "${v.accountId}" (see line ${first.line}).`,
        ),
      )
    } else if (v.user && seen.has(v.user.id)) {
      problems.set(
        r.line,
        problemOf(
          'conflict',
          `User "${v.user.id}" of account "${v.accountId}" is on line ${seen.get(v.user.id)} already.`,
        ),
      )
    }
    if (v.user && !seen.has(v.user.id)) seen.set(v.user.id, r.line)
  }
  return problems
}

type UserInput = NonNullable<UsersRow['user']>

const differs = (before: UserRow, u: UserInput) =>
  before.email !== u.email ||
  before.name !== u.name ||
  before.role !== u.role ||
  before.locale !== u.locale ||
  (u.status !== undefined && before.status !== u.status)

interface Plan {
  rows: ReadyRow<UsersRow>[]
  account: 'create' | 'update' | 'same'
  newUsers: UserInput[]
  changedUsers: UserInput[]
}

/** What a group asks for against what is stored, or the rows that make it impossible. */
function plan(rows: ReadyRow<UsersRow>[], stored: AccountRow | undefined, storedUsers: UserRow[]): Plan | GroupResult {
  const a = rows[0]!.value
  const account = !stored
    ? 'create'
    : stored.name !== a.accountName || (a.accountLocale && a.accountLocale !== stored.locale)
      ? 'update'
      : 'same'
  const byId = new Map(storedUsers.map((u) => [u.id, u]))
  const p: Plan = { rows, account, newUsers: [], changedUsers: [] }
  for (const { value } of rows) {
    if (!value.user) continue
    const before = byId.get(value.user.id)
    if (!before) p.newUsers.push(value.user)
    else if (differs(before, value.user)) p.changedUsers.push(value.user)
  }
  // one active user per address and account (the users_active_email index), checked on the end
  // state so that the bulk insert cannot fail on it: stored users the file leaves alone first
  const inFile = new Set(rows.flatMap((r) => (r.value.user ? [r.value.user.id] : [])))
  const holders = new Map<string, string>()
  for (const u of storedUsers) if (!inFile.has(u.id) && u.status === 'active') holders.set(u.email.toLowerCase(), u.id)
  const problems = new Map<number, RowProblem>()
  for (const r of rows) {
    const u = r.value.user
    if (!u || (u.status ?? byId.get(u.id)?.status ?? 'active') !== 'active') continue
    const key = u.email.toLowerCase()
    if (holders.has(key)) problems.set(r.line, fromAppError(emailTaken()))
    else holders.set(key, u.id)
  }
  return problems.size > 0 ? rejectGroup(rows, problems, heldBack) : p
}

const newUserRow = (accountId: string, u: UserInput): NewUserRow => ({
  account_id: accountId,
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  status: u.status ?? 'active',
  locale: u.locale,
})

export function createUsersImporter({ users, ctx }: { users: Pick<UserService, 'putIn'>; ctx: RequestContext }) {
  return async function applyUsers(trx: Db, groups: ReadyRow<UsersRow>[][]): Promise<GroupResult[]> {
    const ids = groups.map((g) => g.at(0)!.value.accountId)
    const stored = new Map((await lockAccounts(trx, ids)).map((a) => [a.id, a]))
    const storedUsers = new Map<string, UserRow[]>()
    for (const u of await listUsersOfAccounts(trx, ids))
      storedUsers.set(u.account_id, [...(storedUsers.get(u.account_id) ?? []), u])
    const plans = groups.map((g) =>
      plan(g, stored.get(g[0]!.value.accountId), storedUsers.get(g[0]!.value.accountId) ?? []),
    )
    const ok = plans.filter((p): p is Plan => 'account' in p)

    const audits: AuditEntry[] = []
    const creates = ok.filter((p) => p.account === 'create')
    const created = await insertAccounts(
      trx,
      creates.map((p) => ({
        id: p.rows[0]!.value.accountId,
        name: p.rows[0]!.value.accountName,
        locale: p.rows[0]!.value.accountLocale ?? 'en',
        allowed_email_domains: null,
        contacts_reviewed_at: null,
      })),
    )
    for (const row of created)
      audits.push({ accountId: row.id, action: 'account.created', before: null, after: toAccount(row) })
    for (const p of ok.filter((q) => q.account === 'update')) {
      const { accountId, accountName, accountLocale } = p.rows[0]!.value
      const after = await updateAccount(trx, accountId, {
        name: accountName,
        ...(accountLocale ? { locale: accountLocale } : {}),
      })
      await appendAuditEvent(trx, ctx, {
        accountId,
        action: 'account.updated',
        before: toAccount(stored.get(accountId)!),
        after: toAccount(after!),
      })
    }
    // changes before inserts: a new user may take the address an existing one gives up
    for (const p of ok) {
      for (const { id, ...input } of p.changedUsers) await users.putIn(trx, ctx, p.rows[0]!.value.accountId, id, input)
    }
    const inserted = await insertUsers(
      trx,
      ok.flatMap((p) => p.newUsers.map((u) => newUserRow(p.rows[0]!.value.accountId, u))),
    )
    for (const row of inserted)
      audits.push({ accountId: row.account_id, action: 'user.created', before: null, after: toUser(row) })
    await appendAuditEvents(trx, ctx, audits)

    return plans.map((p) => {
      if (!('account' in p)) return p
      const touched = new Set([...p.newUsers, ...p.changedUsers].map((u) => u.id))
      const accountChanged = p.account !== 'same'
      return {
        rows: p.rows.map((r) => ({
          line: r.line,
          cells: r.cells,
          result: accountChanged || (r.value.user && touched.has(r.value.user.id)) ? 'changed' : 'unchanged',
        })),
        tally: {
          accountsCreated: p.account === 'create' ? 1 : 0,
          accountsUpdated: p.account === 'update' ? 1 : 0,
          usersCreated: p.newUsers.length,
          usersUpdated: p.changedUsers.length,
        },
      }
    })
  }
}
