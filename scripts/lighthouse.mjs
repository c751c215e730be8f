// Lighthouse on the settings page as a phone sees it (its default mobile preset: a mid-range
// phone's screen, a 4x slower CPU and a slow 4G network, simulated), against the built service
// (`npm run build`) on embedded PGlite with its demo account: what `npm start` runs.
//
//   node scripts/lighthouse.mjs            (CI runs it after the suite: .ci/run)
//
// It fails unless accessibility and best practices score 100 and performance at least 95, and
// prints every score with the audits that cost points. CHROMIUM names the browser (Debian's by
// default); LIGHTHOUSE_REPORT=<file.html> writes the full report.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import * as chromeLauncher from 'chrome-launcher'
import lighthouse from 'lighthouse'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
/** The least score each category must have (0..100). */
const FLOORS = { accessibility: 100, 'best-practices': 100, performance: 95 }
const PORT = 3000 + Math.floor(Math.random() * 2000) + 2000

/** Starts the built service on a fresh data folder; answers the printed sign-in URL and a stop. */
async function startService() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-lighthouse-'))
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js'), 'serve', '--demo-if-empty'], {
    env: { ...process.env, PORT: String(PORT), DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const stop = () => {
    child.kill('SIGTERM')
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  const url = await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`the service printed no sign-in URL in 60 s:\n${out}`)), 60_000)
    // the banner is on stderr, the log on stdout: either may carry it
    const read = (chunk) => {
      out += chunk
      const m = /(http:\/\/\S+\/ui\/sign-in#token=\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    child.stdout.on('data', read)
    child.stderr.on('data', read)
    child.on('exit', (code) => reject(new Error(`the service exited (${code}):\n${out}`)))
  })
  return { url, stop }
}

const service = await startService()
const chrome = await chromeLauncher.launch({
  chromePath: CHROMIUM,
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run'],
})
let failed = false
try {
  const result = await lighthouse(service.url, {
    port: chrome.port,
    output: 'html',
    logLevel: 'error',
    onlyCategories: Object.keys(FLOORS),
  })
  if (!result) throw new Error('Lighthouse answered nothing')
  const { lhr } = result
  if (process.env.LIGHTHOUSE_REPORT) fs.writeFileSync(process.env.LIGHTHOUSE_REPORT, result.report)
  if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`)
  console.log(`Lighthouse ${lhr.lighthouseVersion}, ${lhr.configSettings.formFactor}, ${lhr.environment.hostUserAgent}`)
  for (const [id, floor] of Object.entries(FLOORS)) {
    const category = lhr.categories[id]
    const score = Math.round((category.score ?? 0) * 100)
    const ok = score >= floor
    failed ||= !ok
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${category.title}: ${score} (at least ${floor})`)
    // what cost points: the audits of the category that did not score full marks
    for (const ref of category.auditRefs.filter((r) => r.weight > 0)) {
      const audit = lhr.audits[ref.id]
      if (audit.score !== null && audit.score < 1)
        console.log(`         ${audit.id}: ${audit.displayValue ?? Math.round(audit.score * 100)} (${audit.title})`)
    }
  }
  const metric = (id) => lhr.audits[id]?.displayValue ?? '?'
  console.log(
    `  first contentful paint ${metric('first-contentful-paint')}, largest ${metric('largest-contentful-paint')}, ` +
      `total blocking time ${metric('total-blocking-time')}, layout shift ${metric('cumulative-layout-shift')}`,
  )
} finally {
  chrome.kill()
  service.stop()
}
if (failed) {
  console.error('Lighthouse: a score is under its floor')
  process.exit(1)
}
