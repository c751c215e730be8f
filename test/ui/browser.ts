/**
 * What the settings page tests need around a real Chromium: the page built, the browser started,
 * a signed-in tab, axe, and the console watched (a CSP violation shows up there).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { AxeBuilder } from '@axe-core/playwright'
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core'

import type { TestApp } from '../helpers/build-test-app.ts'

const CHROMIUM = '/usr/bin/chromium'
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/**
 * Why the browser tests cannot run, or false. Without Chromium they skip on a developer's machine;
 * in CI a missing browser is a failure, not a skip.
 */
export function skipReason(): string | false {
  if (fs.existsSync(CHROMIUM) || process.env.CI === 'true') return false
  return `Chromium is not installed at ${CHROMIUM} (apt-get install chromium); the settings page browser tests are skipped`
}

/** The newest modification time under `p` (a file or a folder). */
function newest(p: string): number {
  const s = fs.statSync(p)
  if (!s.isDirectory()) return s.mtimeMs
  return Math.max(0, ...fs.readdirSync(p).map((e) => newest(path.join(p, e))))
}

/**
 * Builds web/dist when it is missing or older than its sources. The server reads index.html when
 * the app is built, so this must run before `buildTestApp`.
 */
export function ensurePageBuilt(): void {
  const index = path.join(ROOT, 'web/dist/index.html')
  const sources = ['web/src', 'web/index.html', 'web/vite.config.ts', 'src/i18n/labels.ts'].map((p) =>
    path.join(ROOT, p),
  )
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= Math.max(...sources.map(newest))) return
  const vite = path.join(ROOT, 'node_modules/vite/bin/vite.js')
  const res = spawnSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'error'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
  assert.equal(res.status, 0, `npm run build:web failed:\n${res.stdout}\n${res.stderr}`)
}

/**
 * Serves the app on a free local port for the browser, once it is known that the page's files
 * load (assertAssetsServed); answers its origin.
 */
export async function servePage(app: TestApp): Promise<string> {
  await assertAssetsServed(app)
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  const addr = app.app.server.address()
  assert.ok(addr && typeof addr === 'object')
  return `http://127.0.0.1:${addr.port}`
}

/**
 * Every file web/dist/index.html loads is served under /ui/assets to anyone: a page whose script
 * does not load would fail each test with a mere timeout, so say why up front.
 */
async function assertAssetsServed(app: TestApp): Promise<void> {
  const html = fs.readFileSync(path.join(ROOT, 'web/dist/index.html'), 'utf8')
  const urls = [...html.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1]!)
  assert.ok(urls.length >= 2, 'index.html loads a script and a stylesheet')
  for (const url of urls) {
    const res = await app.call({ method: 'GET', url, token: null })
    assert.equal(res.statusCode, 200, `GET ${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`)
  }
}

/** Debian's Chromium, headless; `extraArgs` add to its flags (names of hosts the tests make up, say). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  })
}

export interface Tab {
  context: BrowserContext
  page: Page
  /** Console errors and uncaught exceptions seen so far (a CSP violation is one). */
  errors: string[]
}

/** A new tab in its own cookie jar, 1280 wide, watching the console. */
export async function openTab(browser: Browser): Promise<Tab> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  })
  context.setDefaultTimeout(10_000)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  page.on('pageerror', (e) => errors.push(String(e)))
  return { context, page, errors }
}

/**
 * Signs `userId` in the way a host product does: mints a session with the platform key and opens
 * its URL (made for `publicUrl`, so pointed at the listening server instead).
 */
export async function signIn(app: TestApp, origin: string, tab: Tab, accountId: string, userId: string): Promise<void> {
  const res = await app.call({ method: 'POST', url: `/v1/accounts/${accountId}/sessions`, payload: { userId } })
  assert.equal(res.statusCode, 201, res.body)
  const url = new URL(res.json().url as string)
  await tab.page.goto(`${origin}${url.pathname}${url.hash}`)
  // the page is ready when the sheet is on it
  await tab.page.locator('#primary').waitFor()
}

/** Waits until `check` answers true (polling), failing with `what` after `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** axe on the page as it is: no serious or critical violation. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze()
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
  const report = bad.map(
    (v) =>
      `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(' ')}: ${n.failureSummary}`).join('\n')}`,
  )
  assert.deepEqual(report, [], `axe on ${what}`)
}

/**
 * A full-page screenshot. Every run takes it (into the temp folder); with UPDATE_SCREENSHOTS=1 it
 * goes to docs/screenshots, which the README shows, so that a plain test run leaves the tree clean.
 */
export async function screenshot(page: Page, name: string, opts: { height?: number } = {}): Promise<void> {
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? path.join(ROOT, 'docs/screenshots')
      : path.join(os.tmpdir(), 'account-contacts-screenshots')
  fs.mkdirSync(dir, { recursive: true })
  // a .jpg (the series of widths) is smaller than a PNG and reads as well; `height` keeps the top of the page only
  const quality = name.endsWith('.jpg') ? { quality: 70 } : {}
  const width = page.viewportSize()?.width ?? 1280
  const clip = opts.height ? { clip: { x: 0, y: 0, width, height: opts.height } } : {}
  await page.screenshot({
    path: path.join(dir, name),
    fullPage: true,
    animations: 'disabled',
    caret: 'hide',
    ...quality,
    ...clip,
  })
}

/** A section of the page by its heading (the whole heading: "History" is not "Mail history"). */
export const section = (page: Page, heading: string | RegExp): Locator =>
  page.locator('section').filter({ has: page.getByRole('heading', { level: 2, name: heading, exact: true }) })

/**
 * What the focused element is (its id), what it is called (its aria-label, else its text), and
 * whether its focus ring shows: ours (2 px or more), or the browser's own (`auto`), which is what
 * the plain pages without a stylesheet have.
 */
export const focused = (page: Page) =>
  // a string: the tests are type-checked without the DOM's types
  page.evaluate<{ id: string; name: string; ring: boolean }>(`(() => {
    const el = document.activeElement
    const style = el ? getComputedStyle(el) : null
    return {
      id: el?.id ?? '',
      name: el?.getAttribute('aria-label') ?? el?.textContent ?? '',
      ring: style
        ? style.outlineStyle === 'auto' || (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2)
        : false,
    }
  })()`)

/** Presses Tab until the focused element is called `name` (at most `max` times), its focus ring showing; fails if it never is. */
export async function tabTo(page: Page, name: string, max = 8): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    const f = await focused(page)
    if (f.name === name) {
      assert.ok(f.ring, `the focus ring shows on "${name}"`)
      return
    }
  }
  assert.fail(`Tab did not reach "${name}" in ${max} presses`)
}

/** Nothing scrolls sideways at the viewport's width; a failure names the elements that stick out. */
export async function assertNoOverflow(page: Page, what: string): Promise<void> {
  const { width, client, out } = await page.evaluate<{ width: number; client: number; out: string[] }>(`({
    width: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
    out: [...document.querySelectorAll('*')]
      // boxes that stick out, and boxes whose text does (a long address that does not wrap)
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 || e.scrollWidth > e.clientWidth + 1)
      .slice(0, 12)
      .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className + ': ' + e.getBoundingClientRect().right),
  })`)
  assert.ok(width <= client, `${what}: the page is ${width} px wide in a ${client} px window:\n${out.join('\n')}`)
}
