import type { Db } from '../db/database.ts'
import type { RequestContext } from '../lib/actor.ts'
import type { GroupResult } from './batch.ts'
import type { Layout } from './csv-formats.ts'
import type { UsersRow } from './csv-rows.ts'
import { readRecords } from './csv-source.ts'
import type { Group } from './group-rows.ts'
import { type ParentIntent, setParents } from './import-parents.ts'
import type { RejectedRow } from './rejects.ts'

/** The counts of an import that the parents step moves rows between. */
type Counts = Record<'changed' | 'unchanged' | 'rejected' | 'parentsSet', number>

/** The lines a rejects file lists (its first column), for a resumed import to tell what landed. */
async function rejectedLines(path: string): Promise<Set<number>> {
  const lines = new Set<number>()
  let header = true
  for await (const r of readRecords(path)) {
    if (!header && !r.error) lines.add(Number(r.cells[0]))
    header = false
  }
  return lines
}

/**
 * The import's part in setting a users file's parents (import-parents.ts): it remembers what each
 * account whose rows landed asks for, and sets the parents once every batch has committed. Only
 * for a users file with the parent column (undefined otherwise).
 */
export function parentsStep(layout: Layout) {
  if (!layout.parents) return undefined
  const intents = new Map<string, ParentIntent>()
  let rejectedBefore = new Set<number>()

  /** The row of a group that names the parent, unless the group was refused. */
  const intend = (group: Group<unknown>, result?: GroupResult) => {
    const first = group.ready?.[0]
    if (!first || result?.rows.some((r) => r.result === 'rejected')) return
    const { accountId, parentAccountId } = first.value as UsersRow
    const row = result?.rows.find((r) => r.line === first.line)
    intents.set(accountId, {
      accountId,
      parentId: parentAccountId ?? null,
      line: first.line,
      cells: first.cells,
      ...(row && row.result !== 'rejected' ? { result: row.result } : {}),
    })
  }

  return {
    /** A resumed import: the lines the interrupted run rejected (its rejects file, cut back to the checkpoint). */
    async resume(rejectsPath: string, exists: boolean) {
      if (exists) rejectedBefore = await rejectedLines(rejectsPath)
    },
    /** Groups settled by this run, with their results. */
    settled(groups: Group<unknown>[], results: GroupResult[]) {
      groups.forEach((g, i) => intend(g, results[i]))
    },
    /** A group skipped on resume: an interrupted run landed it, unless it rejected it. */
    skipped(group: Group<unknown>) {
      if (group.ready && !rejectedBefore.has(group.ready[0]!.line)) intend(group)
    },
    /** Sets the parents; moves the rows' counts to what became of them; answers the rows refused. */
    async finish(db: Db, ctx: RequestContext, dryRun: boolean, counts: Counts): Promise<RejectedRow[]> {
      const { moved, refused } = await setParents(db, ctx, [...intents.values()], dryRun)
      // a row an interrupted run counted is taken from `unchanged` first, the likelier (which of
      // the two it was is not kept)
      const relabel = (i: ParentIntent, to: 'changed' | 'rejected') => {
        const from = i.result ?? (counts.unchanged > 0 ? 'unchanged' : 'changed')
        if (from === to) return
        counts[from]--
        counts[to]++
      }
      for (const i of moved) relabel(i, 'changed')
      counts.parentsSet += moved.length
      for (const { intent } of refused) relabel(intent, 'rejected')
      return refused.map(({ intent, problem }) => ({ line: intent.line, cells: intent.cells, problem }))
    },
  }
}
