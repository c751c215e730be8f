import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { TestContext } from 'node:test'

import type { InjectOptions } from 'fastify'

import { buildApp } from '../../src/app/build-app.ts'
import { createServices } from '../../src/app/container.ts'
import { runCli } from '../../src/cli/cli.ts'
import { connectPglite, type DatabaseKind } from '../../src/db/connect.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'
import { createSecretDeriver } from '../../src/lib/derived-secrets.ts'
import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.ts'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

type Write = (chunk: unknown, ...rest: unknown[]) => boolean

/**
 * Runs the CLI in this process and captures what it prints. Only string writes are captured: the
 * test runner reports to its parent through process.stdout in binary chunks, passed on untouched.
 */
export async function cli(argv: string[], env: Record<string, string>): Promise<CliResult> {
  const out: string[] = []
  const err: string[] = []
  const originals = { stdout: process.stdout.write, stderr: process.stderr.write }
  const capture = (stream: NodeJS.WriteStream, into: string[]): Write => {
    const original = stream.write as unknown as Write
    return (chunk, ...rest) => {
      if (typeof chunk !== 'string') return original.call(stream, chunk, ...rest)
      into.push(chunk)
      ;(rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.()
      return true
    }
  }
  process.stdout.write = capture(process.stdout, out) as typeof process.stdout.write
  process.stderr.write = capture(process.stderr, err) as typeof process.stderr.write
  try {
    const code = await runCli(argv, { ...passSettings(), ...env })
    return { code, stdout: out.join(''), stderr: err.join('') }
  } finally {
    process.stdout.write = originals.stdout
    process.stderr.write = originals.stderr
  }
}

/**
 * What the run's environment says for every database the CLI opens, as a child process would
 * inherit it: CI's pass through PgBouncer 1.18 turns prepared statements off.
 */
function passSettings(): Record<string, string> {
  const v = process.env.DATABASE_PREPARED_STATEMENTS
  return v === undefined ? {} : { DATABASE_PREPARED_STATEMENTS: v }
}

export const tempDir = (t: Pick<TestContext, 'after'>) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-cli-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/**
 * A database that the CLI opens itself (local mode), and `use` to seed or inspect it through the
 * whole app. PGlite lives in a DATA_DIR that one process at a time may hold, so `use` opens it
 * and closes it again before the CLI runs; PostgreSQL is a fresh database shared by both.
 */
export interface CliDatabase {
  /** What the CLI is run with to open this database. */
  env: Record<string, string>
  use<R>(f: (app: TestApp) => Promise<R>): Promise<R>
}

export async function cliDatabase(t: Pick<TestContext, 'after'>, kind: DatabaseKind): Promise<CliDatabase> {
  const dataDir = tempDir(t)
  if (kind === 'postgres') {
    const app = await buildTestApp(t, 'postgres')
    return {
      // the test app's key: PostgreSQL needs one (loadConfig), and the same one derives the same secrets
      env: { DATA_DIR: dataDir, DATABASE_URL: app.handle.url!, SECRET_KEY: TEST_SECRET_KEY, LOG_LEVEL: 'silent' },
      use: <R>(f: (app: TestApp) => Promise<R>) => f(app),
    }
  }
  return {
    env: { DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    async use<R>(f: (app: TestApp) => Promise<R>): Promise<R> {
      const handle = await connectPglite(dataDir, { purpose: 'test' })
      try {
        await migrateToLatest(handle.db)
        const services = createServices({
          db: handle.db,
          config: { publicUrl: 'http://ui.test', reviewIntervalDays: 180, webhookAllowPrivate: true },
          secrets: createSecretDeriver(TEST_SECRET_KEY),
        })
        const app = await buildApp(services, { publicUrl: 'http://ui.test', logLevel: 'silent', rateLimitPerMinute: 0 })
        try {
          const { key } = await services.apiKeys.create('tests')
          const call = ({ token, ...o }: InjectOptions & { token?: string | null }) =>
            app.inject({
              ...o,
              headers: { ...(o.headers as Record<string, string>), authorization: `Bearer ${token ?? key}` },
            })
          return await f({ app, services, handle, apiKey: key, call })
        } finally {
          await app.close()
        }
      } finally {
        await handle.close()
      }
    },
  }
}

/** A test app listening on a free port, and the flags that point the CLI at it. */
export async function listeningApp(t: Pick<TestContext, 'after'>, kind: DatabaseKind) {
  const app = await buildTestApp(t, kind)
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`
  return { app, url, flags: ['--url', url, '--api-key', app.apiKey] }
}
