import assert from 'node:assert/strict'
import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import ts from 'typescript'

import { clientTypes, SCHEMA_FILE } from '../../scripts/generate-client.ts'
import { createClient } from '../../src/client/index.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { exercise } from './client-usage.ts'

const here = path.dirname(fileURLToPath(import.meta.url))

test('[pglite] src/client/schema.d.ts is what the served /openapi.json generates (else: npm run client:generate)', async (t) => {
  const app = await buildTestApp(t, 'pglite')
  const res = await app.call({ method: 'GET', url: '/openapi.json', token: null })
  assert.equal(res.statusCode, 200)
  const generated = await clientTypes(res.json())
  const committed = fs.readFileSync(SCHEMA_FILE, 'utf8')
  if (generated !== committed) {
    const a = generated.split('\n')
    const b = committed.split('\n')
    const line = a.findIndex((l, i) => l !== b[i])
    assert.fail(
      `The client's types drifted from the API at line ${line + 1}:\n  served:    ${a[line]?.trim()}\n  committed: ${b[line]?.trim()}\n` +
        'Run `npm run client:generate` and commit src/client/schema.d.ts.',
    )
  }
})

test('the typed calls of client-usage.ts compile against the committed types', () => {
  // the project's own compiler options, on this one file and what it imports (the client only)
  const configFile = ts.readConfigFile(path.resolve(here, '../../tsconfig.json'), ts.sys.readFile)
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, path.resolve(here, '../..'))
  const program = ts.createProgram({ rootNames: [path.join(here, 'client-usage.ts')], options })
  const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
  assert.deepEqual(errors, [])
})

for (const kind of DATABASES) {
  test(`[${kind}] the typed client against a listening server: create, put user, set primary, sheet, health, a 404 problem`, async (t) => {
    const app = await buildTestApp(t, kind)
    await app.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.app.server.address() as AddressInfo
    const client = createClient({ baseUrl: `http://127.0.0.1:${port}/`, apiKey: app.apiKey })

    const out = await exercise(client, { accountId: 'typed-client', userId: 'aino' })
    assert.equal(out.accountName, 'Typed Client Oy')
    assert.equal(out.userEmail, 'aino@example.com')
    assert.equal(out.primaryEmail, 'aino@example.com')
    assert.match(out.etag ?? '', /^(W\/)?"/)
    assert.deepEqual(out.health, { ok: false, codes: ['no-billing-contact'] })
    assert.equal(out.missing.status, 404)
    assert.equal(out.missing.problem.code, 'not-found')
    assert.equal(out.missing.problem.type, '/problems/not-found')
    assert.ok(out.missing.problem.requestId)

    // the key goes as a bearer token: a wrong one is refused
    const stranger = createClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'acpk_wrong' })
    const refused = await stranger.GET('/v1/accounts', { params: { query: { limit: 1 } } })
    assert.equal(refused.response.status, 401)
    assert.equal(refused.error?.code, 'unauthenticated')
  })
}
