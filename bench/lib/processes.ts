/**
 * The processes of a run: our service, the bare baselines and the SMTP sink, each a child of the
 * runner (the "same process tree"), started on a free loopback port and stopped when the run ends.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { CONFIG_VARIABLES } from '../../src/config/config.ts'
import { cliNodeArgs, tsNodeArgs } from '../../test/helpers/cli-command.ts'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** The platform key the benchmark's service is started with (BOOTSTRAP_API_KEY). */
export const BENCH_API_KEY = 'acpk_benchmark-key-not-for-production-use-0000'
/** The SECRET_KEY of every service process a run starts (return-path references are signed with it). */
export const BENCH_SECRET_KEY = 'benchmark-secret-key-of-at-least-32-characters'

const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
})

async function freePort(): Promise<number> {
  const srv = net.createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const port = (srv.address() as net.AddressInfo).port
  srv.close()
  await once(srv, 'close')
  return port
}

export interface Child {
  proc: ChildProcess
  pid: number
  /** What it printed (stdout and stderr), for a message when it fails. */
  output(): string
  stop(): Promise<void>
}

/**
 * Starts `node <nodeArgs>` in the repository with `env` added: `cliNodeArgs([...])` for our
 * service (its sources, through tsx), `tsNodeArgs(file)` for a baseline. With `--profile DIR`
 * (BENCH_CPU_PROF), our processes write a V8 CPU profile there when they exit (open it in Chrome
 * DevTools or speedscope); the baselines are never profiled.
 */
export function startNode(nodeArgs: string[], env: Record<string, string>, opts: { profile?: boolean } = {}): Child {
  const prof =
    opts.profile && process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const proc = spawn(process.execPath, [...prof, ...nodeArgs], {
    cwd: ROOT,
    env: { ...inheritedEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(proc)
  let out = ''
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000)
  }
  proc.stdout!.on('data', keep)
  proc.stderr!.on('data', keep)
  return {
    proc,
    pid: proc.pid!,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      await once(proc, 'exit')
      clearTimeout(timer)
      children.delete(proc)
    },
  }
}

/**
 * The runner's environment without the service's own settings: a `DATABASE_URL` left in the shell
 * (as the tests want it) would otherwise put the embedded benchmark's service on PostgreSQL, and
 * any other setting would make a run measure a configuration nobody chose.
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const out = { ...process.env }
  for (const name of CONFIG_VARIABLES) delete out[name]
  return out
}

/** Waits until `url` answers 200, or fails with what the child printed. */
async function waitReady(child: Child, url: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (child.proc.exitCode !== null) throw new Error(`process exited (${child.proc.exitCode}):\n${child.output()}`)
    try {
      const res = await fetch(url)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${child.output()}`)
}

/** Resident set size of a process in bytes (Linux /proc), or undefined when it is gone. */
function rssOf(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** Samples a process's RSS every 250 ms until stopped; answers the peak. */
export function watchRss(pid: number) {
  let peak = rssOf(pid) ?? 0
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid) ?? 0)
  }, 250)
  timer.unref()
  return {
    peak: () => peak,
    stop() {
      clearInterval(timer)
      return peak
    },
  }
}

/** Our service (`account-contacts serve`) on `env`'s database, answering on the returned base URL. */
export async function startService(env: Record<string, string>): Promise<Child & { base: string }> {
  const port = await freePort()
  const child = startNode(
    cliNodeArgs(['serve']),
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '0',
      BOOTSTRAP_API_KEY: BENCH_API_KEY,
      WORKER: 'off',
      SECRET_KEY: BENCH_SECRET_KEY,
      ...env,
    },
    { profile: true },
  )
  const base = `http://127.0.0.1:${port}`
  await waitReady(child, `${base}/readyz`)
  return { ...child, base }
}

/** A bare baseline server (bench/baseline/http-server.ts) on PostgreSQL or PGlite. */
export async function startBaseline(env: {
  DATABASE_URL?: string
  PGLITE_DIR?: string
  /** Serves POST /email-events, checking SendGrid's signature with this key (benchmark 11). */
  SENDGRID_PUBLIC_KEY?: string
  SECRET_KEY?: string
}): Promise<Child & { base: string }> {
  const port = await freePort()
  const child = startNode(tsNodeArgs('bench/baseline/http-server.ts'), { PORT: String(port), ...env } as Record<
    string,
    string
  >)
  const base = `http://127.0.0.1:${port}`
  await waitReady(child, `${base}/ready`)
  return { ...child, base }
}
