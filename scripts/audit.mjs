// `node scripts/audit.mjs`: `npm audit --omit=dev` over the production dependencies, failing on any
// high or critical advisory. When no registry answers the audit (some mirrors refuse the advisory
// endpoint), it says so and exits 3, a code of its own, so that CI reports "could not run" rather
// than a pass or a finding. Exit codes: 0 none high or critical, 1 findings, 3 audit could not run.
import { spawnSync } from 'node:child_process'

const COULD_NOT_RUN = 3
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
const res = spawnSync(npm, ['audit', '--omit=dev', '--json', ...process.argv.slice(2)], {
  encoding: 'utf8',
  timeout: 120_000,
})

function couldNotRun(reason) {
  console.log(`audit could not run: ${reason}`)
  process.exit(COULD_NOT_RUN)
}

if (res.error) couldNotRun(res.error.message)
let report
try {
  report = JSON.parse(res.stdout)
} catch {
  couldNotRun(
    `npm audit printed no report (exit ${res.status}): ${(res.stderr || res.stdout).trim().split('\n').at(-1) ?? ''}`,
  )
}
// npm answers a refused request with { message, statusCode, ... } or { error: { code, summary } }
if (!report.metadata?.vulnerabilities) {
  couldNotRun(report.message ?? report.error?.summary ?? report.error?.code ?? `unexpected report (exit ${res.status})`)
}

const counts = report.metadata.vulnerabilities
const deps = report.metadata.dependencies?.prod ?? report.metadata.dependencies?.total
console.log(
  `audit: ${deps ?? '?'} production dependencies; vulnerabilities: critical ${counts.critical}, high ${counts.high}, moderate ${counts.moderate}, low ${counts.low}, info ${counts.info}`,
)
const serious = Object.values(report.vulnerabilities ?? {}).filter(
  (v) => v.severity === 'high' || v.severity === 'critical',
)
for (const v of serious) {
  const via = v.via.map((x) => (typeof x === 'string' ? x : `${x.title} ${x.url ?? ''}`.trim())).join('; ')
  console.log(`  ${v.severity}: ${v.name} ${v.range}: ${via}${v.fixAvailable ? ' (fix available)' : ''}`)
}
process.exit(counts.high + counts.critical > 0 ? 1 : 0)
