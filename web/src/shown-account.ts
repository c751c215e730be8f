import type { DescendantHealth } from './api/types.ts'

/**
 * Which account's page is shown. The user's own by default; a parent's admins may open any account
 * the descendants route lists, and the address says which (`/ui/?account=<id>`), so that a reload
 * or a shared link keeps it.
 */
const PARAM = 'account'

/** The account the address names, if any. */
export function accountInAddress(): string | null {
  return new URLSearchParams(location.search).get(PARAM)
}

/** The page's address for `accountId`: the plain `/ui/` for the user's own account. */
export function addressOf(accountId: string, ownAccountId: string): string {
  return accountId === ownAccountId ? '/ui/' : `/ui/?${PARAM}=${encodeURIComponent(accountId)}`
}

/** An account below the user's own, with the ones below it, as the switcher nests them. */
export interface TreeNode {
  account: DescendantHealth
  children: TreeNode[]
}

/**
 * The descendants (which the API lists in id order) as a tree under `rootId`, each level by name:
 * how a reader looks for a company in a group.
 */
export function buildTree(descendants: readonly DescendantHealth[], rootId: string): TreeNode[] {
  const byParent = new Map<string, DescendantHealth[]>()
  for (const d of descendants) byParent.set(d.parentAccountId, [...(byParent.get(d.parentAccountId) ?? []), d])
  const level = (parentId: string): TreeNode[] =>
    [...(byParent.get(parentId) ?? [])]
      .sort((a, b) => a.name.localeCompare(b.name) || a.accountId.localeCompare(b.accountId))
      .map((account) => ({ account, children: level(account.accountId) }))
  return level(rootId)
}
