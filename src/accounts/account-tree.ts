import { PG, pgError } from '../db/pg-errors.ts'
import { AppError } from '../lib/errors.ts'

/** How many times a move is tried when other moves keep winning the tree's lock row before it. */
export const TREE_MOVE_ATTEMPTS = 40

/**
 * The levels an account tree may have, its root being the first. The database holds the rule (the
 * accounts_check_tree trigger of migration 2026-12-03T02-00_account-tree, which names the same
 * number); this is how the API states it.
 */
export const ACCOUNT_TREE_MAX_LEVELS = 5

/** 1, 2, …: how many levels up an ancestor of an account can be, for SQL that unrolls the walk up. */
export const ANCESTOR_DISTANCES = Array.from({ length: ACCOUNT_TREE_MAX_LEVELS - 1 }, (_, i) => i + 1)

/** The problem of a parent that does not exist. */
export const parentNotFound = (parentId: string | null) =>
  new AppError('parent-not-found', { detail: `No account "${parentId}" to be the parent.` })

/**
 * The problem a database refusal of a parent stands for, or undefined for any other error: a
 * cycle, a tree too deep, a parent that does not exist, or (deleting) an account that is a parent.
 */
export function treeProblem(e: unknown, parentId: string | null | undefined): AppError | undefined {
  const pg = pgError(e)
  switch (pg?.code) {
    case PG.accountTreeCycle:
      return new AppError('account-tree-cycle', {
        detail: `"${parentId}" is this account or one of its descendants: an account cannot be its own ancestor.`,
      })
    case PG.accountTreeTooDeep:
      return new AppError('account-tree-too-deep', {
        detail: `Under "${parentId}" the tree would have more than ${ACCOUNT_TREE_MAX_LEVELS} levels (this account and its descendants count too).`,
      })
    case PG.foreignKeyViolation:
    case PG.restrictViolation:
      if (pg.constraint === 'accounts_parent_account_id_fkey')
        return parentId === undefined
          ? new AppError('account-has-children', {
              detail: 'Other accounts have this one as their parent: give them another parent (or none) first.',
            })
          : parentNotFound(parentId)
      return undefined
    default:
      return undefined
  }
}
