/** The table the runner prints, the JSON it writes, and the tables of docs/BENCHMARKS.md. */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import pg from 'pg'
import * as prettier from 'prettier'

import type { BenchOptions, BenchRow } from './context.ts'
import { ROOT } from './processes.ts'

export interface BenchResult {
  date: string
  machine: Record<string, string | number>
  options: BenchOptions
  seconds: number
  rows: BenchRow[]
}

export async function machine(adminUrl: string): Promise<Record<string, string | number>> {
  const c = new pg.Client({ connectionString: adminUrl })
  await c.connect()
  const v = await c.query<{ server_version: string }>('show server_version')
  await c.end()
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: v.rows[0]!.server_version,
    os: `${os.type()} ${os.release()}`,
  }
}

const fmt = (x: number) => x.toLocaleString('en', { maximumFractionDigits: 2 })

/** A figure, and after it the lowest and highest round's when there were several rounds. */
const withSpread = (x: number, rounds: number, [lo, hi]: [number, number] = [x, x]) =>
  rounds > 1 ? `${fmt(x)} (${fmt(lo)}–${fmt(hi)})` : fmt(x)

const holds = (row: BenchRow) => (row.holds === null ? '— (reference)' : row.holds ? 'yes' : '**no**')

/** The results as a Markdown table. */
function table(r: BenchResult): string {
  const lines = [
    '| # | benchmark | ours | baseline | unit | ratio | target | holds |',
    '|---|---|---:|---:|---|---:|---|---|',
    ...r.rows.map((row) => {
      const n = row.rounds?.ratio.length ?? 1
      const s = row.rounds?.spread
      return `| ${row.id} | ${row.name} | ${withSpread(row.ours, n, s?.ours)} | ${withSpread(row.baseline, n, s?.baseline)} | ${row.unit} | ${withSpread(row.ratio, n, s?.ratio)} | ${row.target} | ${holds(row)} |`
    }),
  ]
  const details = r.rows
    .filter((row) => Object.keys(row.details).length > 0)
    .map(
      (row) =>
        `- ${row.id}: ${Object.entries(row.details)
          .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : String(v)}`)
          .join(', ')}`,
    )
  const note = r.rows.some((row) => (row.rounds?.ratio.length ?? 1) > 1)
    ? ['', "In brackets: the lowest and the highest round; for the ratio, of each round's ours ÷ its baseline."]
    : []
  return [...lines, ...note, '', ...details].join('\n')
}

export function printTable(r: BenchResult): void {
  console.log(
    `\n${r.options.accounts.toLocaleString('en')} accounts, ${r.date}, ${r.machine.cores} cores, Node ${r.machine.node}, PostgreSQL ${r.machine.postgres}, ${r.seconds} s\n`,
  )
  console.log(table(r))
  console.log('')
}

export function writeJson(r: BenchResult, dir: string): string {
  const file = path.join(dir, `account-contacts-bench-${r.options.accounts}.json`)
  fs.writeFileSync(file, JSON.stringify(r, null, 2) + '\n')
  return file
}

const DOC = path.join(ROOT, 'docs', 'BENCHMARKS.md')
const START = '<!-- results:start (written by npm run bench -- --record) -->'
const END = '<!-- results:end -->'

/**
 * Keeps the run as docs/benchmarks/results-<accounts>.json and rewrites the results part of
 * docs/BENCHMARKS.md from every recorded run (one section per dataset size).
 */
export async function record(r: BenchResult): Promise<string> {
  const dir = path.join(ROOT, 'docs', 'benchmarks')
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, `results-${r.options.accounts}.json`)
  // formatted as the repository's Prettier formats it, so that CI's format check passes on a recorded run
  const options = await prettier.resolveConfig(file)
  fs.writeFileSync(file, await prettier.format(JSON.stringify(r, null, 2), { ...options, filepath: file }))
  const runs = fs
    .readdirSync(dir)
    .filter((f) => /^results-\d+\.json$/.test(f))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as BenchResult)
    .sort((a, b) => a.options.accounts - b.options.accounts)
  const sections = runs.map((run) => {
    const m = run.machine
    return [
      `### ${run.options.accounts.toLocaleString('en')} accounts`,
      '',
      `Run ${run.date.slice(0, 16).replace('T', ' ')} UTC in ${run.seconds} s: \`npm run bench -- --accounts ${run.options.accounts} --record\`; ` +
        `${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres}; ` +
        `load ${run.options.connections} connections, ${run.options.rounds} × ${run.options.seconds} s per side.`,
      '',
      table(run),
    ].join('\n')
  })
  const doc = fs.readFileSync(DOC, 'utf8')
  const a = doc.indexOf(START)
  const b = doc.indexOf(END)
  if (a < 0 || b < a) throw new Error(`${DOC} lacks the results markers`)
  fs.writeFileSync(DOC, doc.slice(0, a + START.length) + '\n\n' + sections.join('\n\n') + '\n\n' + doc.slice(b))
  return file
}
