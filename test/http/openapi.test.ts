import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

import { buildTestApp } from '../helpers/build-test-app.ts'

const run = promisify(execFile)

test('[pglite] the served /openapi.json passes `redocly lint` with no error and no warning', async (t) => {
  const app = await buildTestApp(t, 'pglite', { config: { publicUrl: 'https://contacts.saas.test' } })
  const res = await app.call({ method: 'GET', url: '/openapi.json', token: null })
  assert.equal(res.statusCode, 200)
  const doc = res.json()
  assert.equal(doc.openapi, '3.1.0')

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'openapi-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'openapi.json')
  fs.writeFileSync(file, res.body)
  const bin = path.resolve('node_modules/.bin/redocly')
  const out = await run(bin, ['lint', file], {
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  }).catch((e: { stdout: string; stderr: string; code: number }) => e)
  const text = `${out.stdout}\n${out.stderr}`
  assert.ok(!('code' in out) || out.code === 0, text)
  assert.match(text, /Your API description is valid/)
  assert.doesNotMatch(text, /You have \d+ warning/, text)
})

test('[pglite] every route the server has is in the document, and every operation has an operationId', async (t) => {
  const app = await buildTestApp(t, 'pglite')
  const doc = (await app.call({ method: 'GET', url: '/openapi.json', token: null })).json()
  const ops = Object.entries(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap(
    ([p, methods]) => Object.entries(methods).map(([m, op]) => ({ key: `${m.toUpperCase()} ${p}`, op })),
  )
  for (const { key, op } of ops) assert.ok(op.operationId, `${key} has no operationId`)
  for (const must of [
    'POST /v1/accounts',
    'PUT /v1/accounts/{accountId}/contacts',
    'POST /v1/accounts/{accountId}/contacts/billing',
    'GET /v1/accounts/{accountId}/audit-events',
  ]) {
    assert.ok(
      ops.some((o) => o.key === must),
      `${must} is missing`,
    )
  }
})
