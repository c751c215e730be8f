/** What every benchmark gets from the runner, and what it answers. */
import { accountId } from './dataset.ts'
import { BENCH_API_KEY, type Child, watchRss } from './processes.ts'

export interface BenchOptions {
  /** Accounts in the main dataset. */
  accounts: number
  /** The main dataset's PostgreSQL database (`ac_bench_<N>` unless --dataset or BENCH_DATASET names another). */
  dataset: string
  /** A short smoke run: small data, one short round of each side. */
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
  /** Starts watching a service process's memory under a label; the runner reports each engine's peaks. */
  watch(child: Child, label: string, engine?: Engine): void
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
  /** Whether the target holds; null on a row kept for reference, which has none. */
  holds: boolean | null
  /** Each round's figures, when the row compares rounds of both sides. */
  rounds?: Rounds
  /** Secondary figures (latencies, row counts), printed under the table and kept in the JSON. */
  details: Record<string, unknown>
}

/** Each side's figure in every round (in the row's unit), each round's ratio, and their spreads. */
export interface Rounds {
  ours: number[]
  baseline: number[]
  /** Round i's ours / baseline. */
  ratio: number[]
  /** The lowest and the highest of each. */
  spread: { ours: [number, number]; baseline: [number, number]; ratio: [number, number] }
}

const minMax = (xs: number[]): [number, number] => [Math.min(...xs), Math.max(...xs)]

/** The rounds of a row from each side's figures, round i of one against round i of the other. */
export function perRound(ours: number[], baseline: number[], digits = 0): Rounds {
  const ratio = ours.map((o, i) => round(o / baseline[i]!))
  const o = ours.map((x) => round(x, digits))
  const b = baseline.map((x) => round(x, digits))
  return { ours: o, baseline: b, ratio, spread: { ours: minMax(o), baseline: minMax(b), ratio: minMax(ratio) } }
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

/** What a service process runs on; its memory has a target of its own (docs/BENCHMARKS.md). */
export type Engine = 'postgres' | 'pglite'

/** Peak RSS each engine's service processes may reach under load, in MB. */
export const MEMORY_TARGET_MB: Record<Engine, number> = { postgres: 150, pglite: 250 }

export function memoryWatcher() {
  const watchers: { label: string; engine: Engine; stop(): number; peak(): number }[] = []
  const of = (engine: Engine) => watchers.filter((w) => w.engine === engine)
  return {
    watch(child: Child, label: string, engine: Engine = 'postgres') {
      watchers.push({ label, engine, ...watchRss(child.pid) })
    },
    /** The engines whose processes were watched. */
    engines: (): Engine[] => (['postgres', 'pglite'] as const).filter((e) => of(e).length > 0),
    /** The highest RSS any watched service process on `engine` reached. */
    peak: (engine: Engine) => Math.max(0, ...of(engine).map((w) => w.peak())),
    /** The highest peak of the processes on `engine` watched under each label, in MB. */
    peaks(engine: Engine) {
      const out: Record<string, number> = {}
      for (const w of of(engine)) out[w.label] = Math.max(out[w.label] ?? 0, Math.round(w.peak() / 2 ** 20))
      return out
    },
    stop: () => watchers.forEach((w) => w.stop()),
  }
}
