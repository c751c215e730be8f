/**
 * `npx tsx bench/cpu-per-request.ts [--accounts N] [--seconds S] [--dataset NAME]`: the CPU time our
 * service and the bare baseline (unnamed statements, then named) spend per sheet read (user and
 * system time of each process from /proc, divided by the requests it answered), each loaded alone. Where benchmark 1's ratio is short of 1, this
 * says how much of the gap is our own CPU rather than the database. Uses the dataset of
 * `npm run bench` (run that first; --dataset and BENCH_DATASET as there).
 */
import fs from 'node:fs'
import { parseArgs } from 'node:util'

import { auth, randomAccount } from './lib/context.ts'
import { checkDatasetName, defaultDataset, postgresDataset } from './lib/dataset.ts'
import { load, type LoadTarget } from './lib/load.ts'
import { type Child, startBaseline, startService } from './lib/processes.ts'

const { values } = parseArgs({
  options: {
    accounts: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '8' },
    dataset: { type: 'string' },
  },
})
const accounts = Number(values.accounts)
const seconds = Number(values.seconds)
const url = await postgresDataset(
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  checkDatasetName(values.dataset ?? process.env.BENCH_DATASET ?? defaultDataset(accounts)),
  accounts,
  console.log,
)

/** User and system CPU of a process so far, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
function cpu(pid: number) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return { user: Number(f[11]) * 10, system: Number(f[12]) * 10 }
}

async function measure(name: string, child: Child, target: LoadTarget) {
  await load(target, { seconds: 2, connections: 10 })
  const a = cpu(child.pid)
  const r = await load(target, { seconds, connections: 10 })
  const b = cpu(child.pid)
  const per = (ms: number) => ((ms * 1000) / r.requests).toFixed(0)
  console.log(
    `${name.padEnd(9)} ${r.rps.toFixed(0).padStart(6)} requests/s, CPU per request ${per(b.user - a.user + b.system - a.system)} µs (user ${per(b.user - a.user)}, system ${per(b.system - a.system)})`,
  )
}

const service = await startService({ DATABASE_URL: url })
const baseline = await startBaseline({ DATABASE_URL: url })
try {
  await measure('ours', service, {
    base: service.base,
    method: 'GET',
    path: () => `/v1/accounts/${randomAccount(accounts)}/contacts`,
    headers: auth,
  })
  await measure('baseline', baseline, {
    base: baseline.base,
    method: 'GET',
    path: () => `/read/${randomAccount(accounts)}`,
  })
  await measure('named', baseline, {
    base: baseline.base,
    method: 'GET',
    path: () => `/read-named/${randomAccount(accounts)}`,
  })
} finally {
  await service.stop()
  await baseline.stop()
}
