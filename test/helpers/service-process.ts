import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { TEST_SECRET_KEY } from './build-test-app.ts'
import { cliNodeArgs } from './cli-command.ts'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** A port that was free a moment ago (the service is told it; PORT=0 would hide the real one). */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface ServiceProcess {
  child: ChildProcess
  pid: number
  /** `http://127.0.0.1:<port>` */
  url: string
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string
  /** SIGTERM, then waits for the exit (the service shuts down cleanly); answers the exit code. */
  stop(timeoutMs?: number): Promise<number | null>
}

/**
 * The real service, `account-contacts serve` (from the sources: cli-command.ts), as a child process with
 * `env` on top of this process's environment (DATABASE_URL only when `env` names it, so that the
 * service runs on PGlite in DATA_DIR otherwise). Resolves once `/readyz` answers 200. Pass the set
 * from `killedAtEnd(t)` so that the process never outlives the test.
 */
export async function startService(
  children: Set<ChildProcess>,
  env: Record<string, string>,
  opts: { readyTimeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const port = await freePort()
  const base: Record<string, string | undefined> = { ...process.env }
  delete base.DATABASE_URL
  delete base.NODE_TEST_CONTEXT
  const child = spawn(process.execPath, cliNodeArgs(['serve']), {
    cwd: root,
    // on PostgreSQL the service refuses to start without SECRET_KEY; callers may name their own
    env: {
      ...base,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...(env.DATABASE_URL ? { SECRET_KEY: TEST_SECRET_KEY } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const chunks: string[] = []
  child.stdout!.on('data', (b: Buffer) => chunks.push(b.toString()))
  child.stderr!.on('data', (b: Buffer) => chunks.push(b.toString()))
  const output = () => chunks.join('')
  const url = `http://127.0.0.1:${port}`

  const end = Date.now() + (opts.readyTimeoutMs ?? 30_000)
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the service exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output().slice(-3000)}`,
      )
    }
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    )
    if (ready) break
    if (Date.now() > end)
      throw new Error(`the service was not ready after ${opts.readyTimeoutMs ?? 30_000} ms:\n${output().slice(-3000)}`)
    await new Promise((r) => setTimeout(r, 100))
  }

  return {
    child,
    pid: child.pid!,
    url,
    output,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
      child.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the service did not stop within ${timeoutMs} ms of SIGTERM`)),
          timeoutMs,
        )
      })
      try {
        const [code] = await Promise.race([exited, late])
        return code
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
