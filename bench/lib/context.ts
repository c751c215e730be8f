/** What every benchmark gets from the runner, and what it answers. */
import { accountId } from './dataset.ts'
import { BENCH_API_KEY, type Child, watchRss } from './processes.ts'

export interface BenchOptions {
  /** Accounts in the main dataset. */
  accounts: number
  /** A short smoke run: small data, one short round. */
  quick: boolean
  /** PostgreSQL server for the datasets (a superuser connection to any database). */
  adminUrl: string
  seconds: number
  rounds: number
  warmupSeconds: number
  connections: number
  /** Mails the delivery benchmark sends. */
  mails: number
  /** Notifications in the history the retention benchmarks prune. */
  notifications: number
}

export interface BenchContext {
  opts: BenchOptions
  /** The main dataset's database (opts.accounts accounts). */
  pgUrl: string
  say(line: string): void
  /** Starts watching a service process's memory under a label; the runner reports the peaks. */
  watch(child: Child, label: string): void
}

/** One line of the table: our figure, the baseline's, their ratio and whether the target holds. */
export interface BenchRow {
  id: number
  name: string
  unit: string
  ours: number
  baseline: number
  ratio: number
  target: string
  holds: boolean
  /** Secondary figures (latencies, row counts), printed under the table and kept in the JSON. */
  details: Record<string, unknown>
}

/** How long and how hard each side of a comparison is loaded (compareLoad's options). */
export const loadOptions = (ctx: BenchContext) => ({
  seconds: ctx.opts.seconds,
  rounds: ctx.opts.rounds,
  connections: ctx.opts.connections,
  warmupSeconds: ctx.opts.warmupSeconds,
})

/** A random account of the first `n`. */
export const randomAccount = (n: number) => accountId(1 + Math.floor(Math.random() * n))

export const auth = { authorization: `Bearer ${BENCH_API_KEY}` }

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits

export function memoryWatcher() {
  const watchers: { label: string; stop(): number; peak(): number }[] = []
  return {
    watch(child: Child, label: string) {
      watchers.push({ label, ...watchRss(child.pid) })
    },
    /** The highest RSS any watched service process reached. */
    peak: () => Math.max(0, ...watchers.map((w) => w.peak())),
    /** Each watched process's peak, in MB, by label. */
    peaks: () => Object.fromEntries(watchers.map((w) => [w.label, Math.round(w.peak() / 2 ** 20)])),
    stop: () => watchers.forEach((w) => w.stop()),
  }
}
