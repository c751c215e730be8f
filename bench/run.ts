/**
 * `npm run bench`: generates (or reuses) the PostgreSQL dataset, runs each benchmark against its
 * minimal baseline in this process tree, and prints the table of ratios. See bench/README.md.
 *
 *   --accounts N    accounts in the main dataset (default 100000; 1000000 for the full size)
 *   --only 1,3      run only these benchmarks (1 read, 2 preview, 3 write, 4 broadcast,
 *                   5 delivery, 6 embedded read, 7 growth, 11 email events, 12 depth-3 read and
 *                   preview, 13 broadcast to trees; only when named: 9 retention on PostgreSQL,
 *                   10 retention on PGlite)
 *   --quick         a smoke run: 1,000 accounts, one short round of each
 *   --dataset NAME  the dataset's PostgreSQL database (default ac_bench_<accounts>; also
 *                   BENCH_DATASET): two runs at once on one server must not share one
 *   --record        write the results into docs/benchmarks/ and the table of docs/BENCHMARKS.md
 *   --profile DIR   our service and worker processes write V8 CPU profiles (.cpuprofile) into DIR
 *   --seconds S --rounds R --connections C --mails M   load settings (R alternating rounds of
 *                   each side, default 3; 1 with --quick)
 *   --notifications N   history the retention benchmarks prune (default 1000000; 20000 with --quick)
 */
import os from 'node:os'
import { parseArgs } from 'node:util'

import { broadcastBenchmark } from './benchmarks/broadcast.bench.ts'
import { deliveryBenchmark } from './benchmarks/delivery.bench.ts'
import { emailEventsBenchmark } from './benchmarks/email-events.bench.ts'
import { embeddedBenchmark } from './benchmarks/embedded.bench.ts'
import { growthBenchmark } from './benchmarks/growth.bench.ts'
import { httpBenchmarks } from './benchmarks/http.bench.ts'
import { embeddedRetentionBenchmark, retentionBenchmark } from './benchmarks/retention.bench.ts'
import { depthBenchmark, treeBroadcastBenchmark } from './benchmarks/tree.bench.ts'
import { type BenchContext, type BenchOptions, type BenchRow, MEMORY_TARGET_MB, memoryWatcher } from './lib/context.ts'
import { checkDatasetName, defaultDataset, postgresDataset } from './lib/dataset.ts'
import { machine, printTable, record, writeJson } from './lib/report.ts'

const { values } = parseArgs({
  options: {
    accounts: { type: 'string' },
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    record: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    connections: { type: 'string' },
    mails: { type: 'string' },
    notifications: { type: 'string' },
    'database-url': { type: 'string' },
    dataset: { type: 'string' },
    profile: { type: 'string' },
  },
})
// read by startNode in every benchmark
if (values.profile) process.env.BENCH_CPU_PROF = values.profile

const quick = values.quick!
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v))
const accounts = num(values.accounts, quick ? 1000 : 100_000)
const opts: BenchOptions = {
  accounts,
  dataset: checkDatasetName(values.dataset ?? process.env.BENCH_DATASET ?? defaultDataset(accounts)),
  quick,
  adminUrl: values['database-url'] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  seconds: num(values.seconds, quick ? 1 : 8),
  // three at least: a median, and a spread that says how far one run can be trusted
  rounds: num(values.rounds, quick ? 1 : 3),
  // long enough for the JIT and the lazily compiled serialisers to settle on both sides
  warmupSeconds: quick ? 0.5 : 5,
  connections: num(values.connections, 10),
  mails: num(values.mails, quick ? 200 : 5000),
  notifications: num(values.notifications, quick ? 20_000 : 1_000_000),
}
const only = new Set((values.only ?? '1,2,3,4,5,6,7,11,12,13').split(',').map(Number))

const started = Date.now()
const say = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`)
const memory = memoryWatcher()

say(
  `account-contacts benchmarks: ${opts.accounts.toLocaleString('en')} accounts${quick ? ' (quick smoke run)' : ''}, ${os.cpus().length} cores`,
)
// the retention benchmarks (9, 10) bring their own data: a run of only those skips the accounts
const pgUrl = [...only].some((i) => i !== 9 && i !== 10)
  ? await postgresDataset(opts.adminUrl, opts.dataset, opts.accounts, say)
  : ''
const ctx: BenchContext = { opts, pgUrl, say, watch: (c, label, engine) => memory.watch(c, label, engine) }

const rows: BenchRow[] = []
if ([1, 2, 3].some((i) => only.has(i))) rows.push(...(await httpBenchmarks(ctx, only)))
if (only.has(4)) rows.push(...(await broadcastBenchmark(ctx)))
if (only.has(5)) rows.push(...(await deliveryBenchmark(ctx)))
if (only.has(6)) rows.push(...(await embeddedBenchmark(ctx)))
if (only.has(7)) rows.push(...(await growthBenchmark(ctx)))
if (only.has(11)) rows.push(...(await emailEventsBenchmark(ctx)))
if (only.has(12)) rows.push(...(await depthBenchmark(ctx)))
if (only.has(13)) rows.push(...(await treeBroadcastBenchmark(ctx)))
if (only.has(9)) rows.push(...(await retentionBenchmark(ctx)))
if (only.has(10)) rows.push(...(await embeddedRetentionBenchmark(ctx)))
memory.stop()

for (const engine of memory.engines()) {
  const peakMb = Math.round(memory.peak(engine) / 2 ** 20)
  const target = MEMORY_TARGET_MB[engine]
  rows.push({
    id: 8,
    name: `memory: peak RSS of the service processes on ${engine === 'postgres' ? 'PostgreSQL' : 'PGlite'}`,
    unit: 'MB',
    ours: peakMb,
    baseline: target,
    ratio: Math.round((peakMb / target) * 100) / 100,
    target: `< ${target} MB`,
    holds: peakMb < target,
    details: memory.peaks(engine),
  })
}

const result = {
  date: new Date().toISOString(),
  machine: await machine(opts.adminUrl),
  options: opts,
  seconds: Math.round((Date.now() - started) / 1000),
  rows,
}
printTable(result)
const file = opts.quick || !values.record ? writeJson(result, os.tmpdir()) : await record(result)
say(`results: ${file}`)
// a smoke run fails when a figure could not be measured at all (errors, non-2xx), not on a missed target
const broken = rows.filter((r) => r.details.failedRequests)
process.exit(broken.length > 0 ? 1 : 0)
