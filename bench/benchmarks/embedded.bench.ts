/**
 * Benchmark 6: the sheet read on embedded PGlite (what `npm start` runs), ours against the bare
 * Fastify + PGlite route. PGlite serves one process, so each side gets its own copy of one
 * generated data folder. PGlite is single-threaded WebAssembly: its dataset is 10,000 accounts
 * (fewer with --quick), generated once and kept under the system's temporary folder.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { connectPglite } from '../../src/db/connect.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'
import { auth, type BenchContext, type BenchRow, loadOptions, randomAccount } from '../lib/context.ts'
import { generate } from '../lib/dataset.ts'
import { compareLoad } from '../lib/load.ts'
import { startBaseline, startService } from '../lib/processes.ts'
import { rpsRow } from './http.bench.ts'

const EMBEDDED_ACCOUNTS = 10_000

async function pgliteDataset(accounts: number, say: (l: string) => void): Promise<string> {
  const dir = path.join(os.tmpdir(), 'account-contacts-bench', `pglite-${accounts}`)
  if (!fs.existsSync(path.join(dir, 'complete'))) {
    fs.rmSync(dir, { recursive: true, force: true })
    say(`Generating ${accounts.toLocaleString('en')} accounts in PGlite (${dir}, kept for later runs)…`)
    const handle = await connectPglite(dir, { purpose: 'benchmark dataset' })
    await generate(handle.db, accounts, say)
    await handle.close()
    fs.writeFileSync(path.join(dir, 'complete'), new Date().toISOString())
  } else {
    // a dataset kept from an earlier run gets the migrations added since, as the PostgreSQL one
    // does: the baseline reads the tables as they are now, and does not migrate by itself
    const handle = await connectPglite(dir, { purpose: 'benchmark dataset' })
    await migrateToLatest(handle.db)
    await handle.close()
  }
  return dir
}

export async function embeddedBenchmark(ctx: BenchContext): Promise<BenchRow[]> {
  const accounts = Math.min(EMBEDDED_ACCOUNTS, ctx.opts.accounts)
  ctx.say(`6. embedded read on PGlite (${accounts.toLocaleString('en')} accounts) …`)
  const source = await pgliteDataset(accounts, ctx.say)
  // fresh copies each run: both sides start from the same generated state
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-bench-run-'))
  const ours = path.join(work, 'ours')
  const base = path.join(work, 'baseline')
  fs.cpSync(source, ours, { recursive: true })
  fs.cpSync(path.join(source, 'pgdata'), base, { recursive: true })
  const service = await startService({ DATA_DIR: ours })
  ctx.watch(service, 'serve (PGlite), benchmark 6', 'pglite')
  const baseline = await startBaseline({ PGLITE_DIR: base })
  try {
    const c = await compareLoad(
      {
        base: service.base,
        method: 'GET',
        path: () => `/v1/accounts/${randomAccount(accounts)}/contacts`,
        headers: auth,
      },
      { base: baseline.base, method: 'GET', path: () => `/read/${randomAccount(accounts)}` },
      loadOptions(ctx),
    )
    return [rpsRow(6, `embedded read on PGlite (${accounts.toLocaleString('en')} accounts)`, c, { min: 0.8 })]
  } finally {
    await service.stop()
    await baseline.stop()
    fs.rmSync(work, { recursive: true, force: true })
  }
}
