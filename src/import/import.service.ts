import path from 'node:path'

import type { Progress } from '../cli/progress.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import type { Db } from '../db/database.ts'
import { PG, pgError } from '../db/pg-errors.ts'
import { isRetryable } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import { isAppError } from '../lib/errors.ts'
import { emailTaken } from '../users/user-errors.ts'
import type { UserService } from '../users/users.service.ts'
import {
  type ApplyGroups,
  emptyTally,
  type GroupResult,
  inTransaction,
  rejectGroup,
  type Tally,
  TALLY_KEYS,
} from './batch.ts'
import {
  type Checkpoint,
  checkpointPath,
  fileIdentity,
  loadCheckpoint,
  removeCheckpoint,
  saveCheckpoint,
} from './checkpoint.ts'
import { type CsvFormat, CsvFormatError, detectFormat, type Layout } from './csv-formats.ts'
import { parseSheetsRow, parseUsersRow } from './csv-rows.ts'
import { readRecords } from './csv-source.ts'
import { type Group, groupRecords, type RowRules } from './group-rows.ts'
import { createSheetsImporter } from './import-sheets.ts'
import { checkUsersGroup, createUsersImporter } from './import-users.ts'
import { orderedBatches } from './ordered-batches.ts'
import { parentsStep } from './parents-step.ts'
import { fromAppError, openRejects, problemOf, type RejectedRow, type RowProblem } from './rejects.ts'
import { checkEncoding, type FileEncoding } from './text-encoding.ts'

export interface ImportDeps {
  db: Db
  users: Pick<UserService, 'putIn'>
  contacts: Pick<ContactService, 'replaceSheetIn'>
}

export interface ImportOptions {
  file: string
  /** Default `<file>.rejects.csv`. */
  rejectsPath?: string
  /** Check everything, in transactions that are rolled back; no checkpoint. */
  dryRun?: boolean
  /** Ignore the checkpoint of an interrupted import of this file. */
  restart?: boolean
  /** Rows a transaction (whole accounts: an account is never split); by default 5,000 in a users file, 500 in a sheets file. */
  batchRows?: number
  /** Transactions at once (PostgreSQL); 1 on PGlite, which has one connection. */
  concurrency?: number
  /** What the file is in (`windows-1252`, `utf-16le`, ...) when it has no byte-order mark; UTF-8 by default. */
  encoding?: string
  ctx?: RequestContext
  progress?: Progress
  /** Things to tell the person at the terminal before the work starts. */
  notice?: (message: string) => void
}

export interface ImportSummary {
  format: CsvFormat
  dryRun: boolean
  /** Rows of the file, including those an interrupted run committed. */
  rows: number
  changed: number
  unchanged: number
  rejected: number
  /** Of the rejected rows, those that cannot be read as CSV (a stray or unclosed quote, a line over the limit). */
  unreadable: number
  /** The first few of their lines (this run's). */
  unreadableLines: number[]
  tally: Tally
  /** The encoding the file was read in, and what said so. */
  encoding: FileEncoding
  resumedAfterLine?: number
  /** Set when rows were rejected. */
  rejectsPath?: string
}

/** How many lines of unreadable rows the summary names. */
const UNREADABLE_LINES_SHOWN = 5

interface Format<P> {
  rules: RowRules<P>
  apply: ApplyGroups<P>
}

function formatFor(layout: Layout, deps: ImportDeps, ctx: RequestContext): Format<unknown> {
  if (layout.format === 'users') {
    return {
      rules: { rowsPerAccount: 'many', parse: parseUsersRow, check: checkUsersGroup },
      apply: createUsersImporter({ users: deps.users, ctx }),
    } as Format<unknown>
  }
  return {
    rules: { rowsPerAccount: 'one', parse: parseSheetsRow },
    apply: createSheetsImporter({ contacts: deps.contacts, ctx }),
  } as Format<unknown>
}

/** A database error that concerns one account's rows (a constraint), not the connection. */
function accountProblem(e: unknown): RowProblem | undefined {
  if (isAppError(e)) return fromAppError(e)
  const pg = pgError(e)
  if (pg?.code === PG.uniqueViolation && pg.constraint === 'users_active_email') return fromAppError(emailTaken())
  // class 23: any other integrity constraint the rows broke
  if (pg?.code.startsWith('23'))
    return problemOf(
      'conflict',
      'The row conflicts with what is stored now (it changed during the import); import it again.',
    )
  return undefined
}

/**
 * Imports a users or sheets CSV file (told by its header; docs/CSV.md), streamed, in batches of
 * whole accounts, each batch one transaction; an account lands whole or not at all. Refused rows
 * go to the rejects file with their line and the API's problem, and the rest lands. A checkpoint
 * after every batch lets an interrupted import resume; a rerun of a file changes nothing. The
 * file's bytes are checked against its encoding first: a file not in it is refused before anything lands.
 */
export async function importCsv(deps: ImportDeps, opts: ImportOptions): Promise<ImportSummary> {
  const { file, dryRun = false } = opts
  // the audit log's actor of an import, and the file it came from in place of a request id
  const ctx = opts.ctx ?? { actor: { type: 'system', id: 'cli-import' }, requestId: `import ${path.basename(file)}` }
  const rejectsPath = opts.rejectsPath ?? `${file}.rejects.csv`
  const identity = fileIdentity(file)
  let cp: Checkpoint | undefined
  if (opts.restart) removeCheckpoint(file)
  else if (!dryRun) {
    const found = loadCheckpoint(file, identity)
    if (found.stale)
      opts.notice?.(
        `Ignoring ${checkpointPath(file)}: it belongs to another version of the file. Starting from the top.`,
      )
    cp = found.checkpoint
  }

  // every byte is checked before anything lands: a file in another encoding is refused whole
  const { encoding, rows: fileRows } = await checkEncoding(file, opts.encoding, (m) => opts.notice?.(m))
  if (cp && (cp.encoding ?? 'utf-8') !== encoding.encoding) {
    opts.notice?.(
      `Ignoring ${checkpointPath(file)}: that import read the file as ${cp.encoding ?? 'utf-8'}. Starting from the top.`,
    )
    cp = undefined
  }

  const records = readRecords(file, encoding.encoding)
  const head = await records.next()
  if (head.done || head.value.error)
    throw new CsvFormatError(
      head.done ? 'The file is empty: it needs a header line.' : `The header cannot be read: ${head.value.error}`,
    )
  const layout = detectFormat(head.value.cells)
  if (cp && cp.format !== layout.format) cp = undefined
  if (cp) opts.notice?.(`Resuming after line ${cp.line} (${checkpointPath(file)}); --restart starts over.`)
  const { rules, apply } = formatFor(layout, deps, ctx)

  const rejects = openRejects(
    rejectsPath,
    layout.header,
    cp?.rejects.path === rejectsPath ? { resumeAtBytes: cp.rejects.bytes } : {},
  )
  const tally = { ...emptyTally(), ...(cp?.tally ?? {}) } as Tally & {
    changed: number
    unchanged: number
    rejected: number
    unreadable: number
  }
  tally.changed ??= 0
  tally.unchanged ??= 0
  tally.rejected ??= 0
  tally.unreadable ??= 0
  let rows = cp?.rows ?? 0
  let rowsThisRun = 0
  const total = Math.max(0, fileRows - rows)
  const unreadableLines: number[] = []

  /** One batch in one transaction; when that fails on a constraint, each account alone, so only the bad one is refused. */
  const run = async (groups: Group<unknown>[]): Promise<GroupResult[]> => {
    const ready = groups.filter((g) => g.ready).map((g) => g.ready!)
    let results: GroupResult[]
    try {
      results = ready.length === 0 ? [] : await inTransaction(deps.db, dryRun, (trx) => apply(trx, ready))
    } catch (e) {
      if (!accountProblem(e) && !isRetryable(e)) throw e
      results = []
      for (const g of ready) {
        try {
          results.push(...(await inTransaction(deps.db, dryRun, (trx) => apply(trx, [g]))))
        } catch (e2) {
          const problem = accountProblem(e2)
          if (!problem) throw e2
          results.push(rejectGroup(g, new Map([[g[0]!.line, problem]]), () => problem))
        }
      }
    }
    let i = 0
    return groups.map((g) => g.refused ?? results[i++]!)
  }

  // users files with a parent column: the parents are set last (import-parents.ts)
  const parents = parentsStep(layout)
  if (cp) await parents?.resume(rejectsPath, cp.rejects.path === rejectsPath)

  const settle = (groups: Group<unknown>[], results: GroupResult[]) => {
    parents?.settled(groups, results)
    const refused: RejectedRow[] = []
    for (const r of results) {
      for (const row of r.rows) {
        tally[row.result]++
        if (row.result === 'rejected') refused.push(row)
      }
      for (const k of TALLY_KEYS) tally[k] += r.tally?.[k] ?? 0
    }
    rejects.write(refused)
    for (const g of groups) {
      if (g.unreadable === undefined) continue
      tally.unreadable++
      if (unreadableLines.length < UNREADABLE_LINES_SHOWN) unreadableLines.push(g.unreadable)
    }
    const n = groups.reduce((s, g) => s + g.size, 0)
    rows += n
    rowsThisRun += n
    if (!dryRun) {
      saveCheckpoint(file, {
        version: 1,
        file: identity,
        encoding: encoding.encoding,
        format: layout.format,
        line: groups.at(-1)!.endLine,
        rows,
        rejects: { path: rejectsPath, bytes: rejects.bytes() },
        tally,
      })
    }
    opts.progress?.update(rowsThisRun, Math.max(total, rowsThisRun))
  }

  const pipeline = orderedBatches({ concurrency: Math.max(1, opts.concurrency ?? 1), run, settle })
  // users go in bulk and gain from big batches; sheets go account by account and gain nothing, so
  // theirs stay small, and so does the time their accounts stay locked against the API
  const batchRows = Math.max(1, opts.batchRows ?? (layout.format === 'users' ? 5000 : 500))
  try {
    let batch: Group<unknown>[] = []
    let size = 0
    // skipped groups still pass through groupRecords, which remembers their accounts
    for await (const g of groupRecords(records, layout, rules, new Map())) {
      if (cp && g.endLine <= cp.line) {
        parents?.skipped(g)
        continue
      }
      batch.push(g)
      size += g.size
      if (size >= batchRows) {
        await pipeline.submit(batch)
        batch = []
        size = 0
      }
    }
    if (batch.length > 0) await pipeline.submit(batch)
    await pipeline.drain()
    // after the rows of the last batch: the parents are set once every account is there
    if (parents) rejects.write(await parents.finish(deps.db, ctx, dryRun, tally))
  } finally {
    rejects.close()
  }
  if (!dryRun) removeCheckpoint(file)
  const { changed, unchanged, rejected, unreadable, ...counts } = tally
  return {
    format: layout.format,
    dryRun,
    rows,
    changed,
    unchanged,
    rejected,
    unreadable,
    unreadableLines,
    encoding,
    tally: Object.fromEntries(TALLY_KEYS.map((k) => [k, counts[k]])) as Tally,
    ...(cp ? { resumedAfterLine: cp.line } : {}),
    ...(rejected > 0 ? { rejectsPath } : {}),
  }
}
