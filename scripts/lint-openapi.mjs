// The served OpenAPI document under Spectral (its OpenAPI rules and the OWASP API security
// ruleset, as .spectral.yaml says): dumps the document into a temporary file, hands that file to
// Spectral as its stdin under the name `openapi.json` (the name .spectral.yaml's overrides point
// into), prints the errors and warnings and their counts, and exits 1 on any error.
// Usage: npm run lint:openapi
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')
// served as a deployment serves it, under an https:// PUBLIC_URL (owasp:api8:2023-no-server-http)
const PUBLIC_URL = 'https://contacts.example.com'
const SEVERITIES = ['error', 'warning', 'info', 'hint']
const MAX_BUFFER = 64 << 20

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lint-openapi-'))
let out
try {
  const file = path.join(dir, 'openapi.json')
  fs.writeFileSync(
    file,
    execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/dump-openapi.ts'), PUBLIC_URL], {
      cwd: root,
      maxBuffer: MAX_BUFFER,
    }),
  )
  const args = [
    'lint',
    '--stdin-filepath',
    'openapi.json',
    '--ruleset',
    '.spectral.yaml',
    '--format',
    'json',
    '--quiet',
    '--fail-severity',
    'error',
  ]
  // stdin is the file itself, not a pipe: Spectral reads stdin in one synchronous read, which a
  // pipe not yet filled answers with EAGAIN
  const stdin = fs.openSync(file, 'r')
  try {
    out = execFileSync(path.join(root, 'node_modules/.bin/spectral'), args, {
      cwd: root,
      stdio: [stdin, 'pipe', 'pipe'],
      encoding: 'utf8',
      maxBuffer: MAX_BUFFER,
    })
  } catch (e) {
    // exit 1 is "errors found", with the results on stdout; anything else is Spectral failing
    if (e.status !== 1 || !e.stdout) throw e
    out = e.stdout
  } finally {
    fs.closeSync(stdin)
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
const results = JSON.parse(out.trim() || '[]')
const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0]))
for (const r of results) {
  const severity = SEVERITIES[r.severity]
  counts[severity]++
  if (r.severity <= 1) console.log(`${severity.padEnd(7)} ${r.code}  ${r.path.join('.')}  ${r.message}`)
}
console.log(`spectral: ${counts.error} errors, ${counts.warning} warnings, ${counts.info} infos, ${counts.hint} hints`)
process.exitCode = counts.error > 0 ? 1 : 0
