// `npm test`: every *.test.ts under test/ and src/, on node's own test runner, two files at a time
// (the machine has two cores). Says up front which databases the database tests will use.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const roots = process.argv.length > 2 ? process.argv.slice(2) : ['test', 'src']
const files = []
const walk = (p) => {
  if (statSync(p).isDirectory()) {
    for (const e of readdirSync(p)) if (e !== 'node_modules') walk(join(p, e))
  } else if (p.endsWith('.test.ts')) files.push(p)
}
for (const r of roots) walk(r)
files.sort()

const pgUrl = process.env.DATABASE_URL
let where = 'PGlite (embedded) only; set DATABASE_URL to run them on PostgreSQL too'
if (pgUrl) {
  const u = new URL(pgUrl)
  if (u.password) u.password = '***'
  where = `PGlite (embedded) and PostgreSQL at ${u.host}${u.pathname} (fresh database per test file)`
  if (process.env.TEST_DATABASES === 'postgres')
    where = `PostgreSQL at ${u.host}${u.pathname} only (TEST_DATABASES=postgres); tests of one engine alone still run on theirs`
}
console.log(`Database tests run on: ${where}. Test names carry [pglite] or [postgres].`)

const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
)
process.exit(res.status ?? 1)
