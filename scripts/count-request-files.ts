/**
 * Which of our source files one primary-contact change runs through, from the HTTP request to the
 * mail the replaced holder receives over SMTP: `node --import tsx scripts/count-request-files.ts`.
 *
 * It starts `serve` in this process (embedded PGlite in a temporary folder, a real SMTP server
 * from test/peers), sets up an account whose primary contact is one user, then measures with V8's
 * precise coverage: counters are reset, `PUT /v1/accounts/{id}/contacts/primary` names a second
 * user, and once the first user's "you were replaced" mail has arrived the files under src/ with a
 * function that ran are listed. It counts code that ran, not imports, so a file only loaded is not
 * counted. The worker's turns run in the window too, with their chores (broadcast batches,
 * retention): the worker is on the path, so they are counted with it. With `--answer`, the
 * worker is off (WORKER=off) and the window ends with the HTTP answer: the files of the request
 * alone, up to its commit.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

import { startSmtpSink } from '../test/peers/smtp-sink.ts'

const answerOnly = process.argv.includes('--answer')
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const session = new Session()
session.connect()
await session.post('Profiler.enable')
await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false })

const sink = await startSmtpSink()
const dataDir = mkdtempSync(join(tmpdir(), 'trace-request-'))
const port = 20_000 + Math.floor(Math.random() * 20_000)
const key = 'trace-request-bootstrap-key-0123456789abcdef'
Object.assign(process.env, {
  DATA_DIR: dataDir,
  PORT: String(port),
  HOST: '127.0.0.1',
  SMTP_URL: sink.url,
  BOOTSTRAP_API_KEY: key,
  LOG_LEVEL: 'silent',
  PUBLIC_URL: `http://127.0.0.1:${port}`,
  WORKER: answerOnly ? 'off' : 'on',
})
process.argv = [process.argv[0]!, 'account-contacts', 'serve']
const exit = process.exit
// serve's own exit on shutdown would end the process before the listing is printed.
process.exit = (() => undefined) as typeof process.exit
await import('../src/main.ts')

const base = `http://127.0.0.1:${port}`
async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res
}
for (let i = 0; ; i++) {
  const ok = await fetch(`${base}/readyz`).then(
    (r) => r.ok,
    () => false,
  )
  if (ok) break
  if (i > 600) throw new Error('serve did not become ready')
  await new Promise((r) => setTimeout(r, 50))
}

await call('POST', '/v1/accounts', { id: 'acme', name: 'Acme Oy', locale: 'en' })
for (const id of ['aino', 'eero']) {
  await call('PUT', `/v1/accounts/acme/users/${id}`, { email: `${id}@acme.test`, name: id, role: 'super_admin' })
}
await call('PUT', '/v1/accounts/acme/contacts/primary', { userId: 'aino' })
await new Promise((r) => setTimeout(r, 500))
const before = sink.received()

await session.post('Profiler.takePreciseCoverage') // resets the counters
await call('PUT', '/v1/accounts/acme/contacts/primary', { userId: 'eero' })
if (!answerOnly) {
  await sink.waitFor(before + 1, 15_000)
  await new Promise((r) => setTimeout(r, 300)) // the worker settles the delivery
}
const { result } = await session.post('Profiler.takePreciseCoverage')

const ran = new Set<string>()
for (const script of result) {
  if (!script.url.startsWith('file://')) continue
  const file = relative(root, fileURLToPath(script.url))
  if (!file.startsWith('src/')) continue
  if (script.functions.some((f) => f.ranges.some((r) => r.count > 0))) ran.add(file)
}
const files = [...ran].sort()
const folders = new Set(files.map((f) => dirname(f)))
console.log(files.join('\n'))
console.log(`${files.length} files in ${folders.size} folders`)

await sink.close()
rmSync(dataDir, { recursive: true, force: true })
exit(0)
