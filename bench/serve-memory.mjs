// `node bench/serve-memory.mjs [--cwd DIR] [--seconds S] [--database-url URL] [--second-start] [-- COMMAND ...]`
//
// The resident memory of one `serve` process, idle and under load, and how long it takes from
// the command's start to `/readyz` 200. COMMAND defaults to `node bin/account-contacts.js serve
// --demo` in DIR (default: this repository; run `npm run build` first, since bin/ runs dist/), so
// the same script measures another checkout (an older commit, or an installed package) with the
// same load. Plain JavaScript, no loader: what
// runs is exactly the command given. Linux only (reads /proc).
//
// Idle: VmRSS 5 s after ready. Loaded: the highest VmRSS sampled every 100 ms while autocannon
// reads the demo account's contact sheet with 20 connections for S seconds (default 15).
// `--second-start`: start once and stop (a new PGlite folder is initialised then), and measure the
// second start on the same data, as every start after the first is.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import autocannon from 'autocannon'

const split = process.argv.indexOf('--')
const { values } = parseArgs({
  args: process.argv.slice(2, split < 0 ? undefined : split),
  options: {
    'second-start': { type: 'boolean' },
    cwd: { type: 'string' },
    seconds: { type: 'string' },
    'database-url': { type: 'string' },
  },
})
const command =
  split < 0 ? [process.execPath, 'bin/account-contacts.js', 'serve', '--demo'] : process.argv.slice(split + 1)
const cwd = path.resolve(values.cwd ?? path.join(import.meta.dirname, '..'))
const seconds = Number(values.seconds ?? 15)
const KEY = 'acpk_memory-benchmark-key-not-for-production-0000'

const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port
    s.close(() => resolve(p))
  })
})
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-serve-memory-'))
const env = {
  ...process.env,
  PORT: String(port),
  HOST: '127.0.0.1',
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  DATA_DIR: dataDir,
  BOOTSTRAP_API_KEY: KEY,
  SECRET_KEY: 'memory-benchmark-secret-key-0123456789abcdef',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_MINUTE: '0',
}
delete env.DATABASE_URL
if (values['database-url']) env.DATABASE_URL = values['database-url']

const rssOf = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) * 1024 : 0
}
/** The process that listens: the command itself, or (npm, sh) its deepest descendant. */
const serverPid = (pid) => {
  for (;;) {
    let kids = []
    try {
      kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
    } catch {
      // the process has ended: it has no children, so it is the deepest one
    }
    if (kids.length === 0) return pid
    pid = Number(kids[kids.length - 1])
  }
}
const mb = (b) => `${(b / 1024 / 1024).toFixed(0)} MB`

const base = `http://127.0.0.1:${port}`
/** Starts the command and resolves once /readyz answers 200, with the time that took. */
async function start() {
  const t0 = performance.now()
  // its own process group, so that stopping it also stops what a wrapper (npm, tsx) started
  const child = spawn(command[0], command.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  child.stdout.on('data', (b) => (out = (out + b).slice(-5000)))
  child.stderr.on('data', (b) => (out = (out + b).slice(-5000)))
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}:\n${out}`)
    if (
      await fetch(`${base}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      break
    if (performance.now() - t0 > 300_000) throw new Error(`not ready after 300 s:\n${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return { child, readyMs: performance.now() - t0 }
}
const stop = async (child) => {
  const exited = child.exitCode === null ? once(child, 'exit') : Promise.resolve()
  process.kill(-child.pid, 'SIGTERM')
  await exited
}

let child
try {
  if (values['second-start']) await stop((await start()).child)
  const started = await start()
  child = started.child
  const pid = serverPid(child.pid)
  await new Promise((r) => setTimeout(r, 5000))
  const idle = rssOf(pid)

  let peak = idle
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 100)
  const r = await autocannon({
    url: `${base}/v1/accounts/demo/contacts`,
    headers: { authorization: `Bearer ${KEY}` },
    connections: 20,
    duration: seconds,
  })
  clearInterval(sampler)
  const errors = r.non2xx + r.errors
  console.log(
    `${command.join(' ')} (${values['database-url'] ? 'PostgreSQL' : 'PGlite'}${values['second-start'] ? ', second start' : ''}): ` +
      `ready in ${(started.readyMs / 1000).toFixed(2)} s; RSS idle ${mb(idle)}, loaded peak ${mb(peak)} ` +
      `(${Math.round(r.requests.average)} req/s, ${errors} non-2xx/errors)`,
  )
} finally {
  if (child) await stop(child)
  fs.rmSync(dataDir, { recursive: true, force: true })
}
